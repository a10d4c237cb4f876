"""In-year monitoring (绩效运行监控, "双监控"): budget execution and indicator completion as of a cut-off.

A monitoring folder is an evaluation folder whose ``evaluation.yaml`` declares ``monitoring: cutoff:``
inside the programme period. Its money figures are cumulative from the programme start to the
cut-off, so a monitoring folder declares the year it monitors as its programme period and that
year's budget as its fund plan (年度预算数):

- 序时进度 (time progress): full months elapsed / 12 (default; the end of July is 7/12 = 58.33 %),
  days elapsed / days in the year, or the declared cumulative disbursement plan
  (``settings: monitoring:``). A cut-off inside a month counts the months completed before it.
- Budget execution by source, sub-project and county: 1–N 月执行数 (spent to the cut-off) against
  年度预算数 (the fund plan), 执行率 = spent / planned; 全年预计执行数 = spent / time progress
  (straight line). Money rows dated after the cut-off are not used and are listed, never dropped.
- Indicators (绩效监控表): completion to date = 1–N 月实际完成值 / 年度指标值. A cumulative indicator
  (comparator ``>=`` and a unit other than %) is expected to have reached the time progress; a level
  (a rate, or lower-is-better) is expected at its full target already (completion target/actual
  for ``<=``). 全年预计完成值 is the unit's, or where missing a straight-line projection (cumulative:
  to date / time progress; level: the value to date).
- Deviation level per line: 红 when progress trails the expected progress by more than
  ``red_gap_pct`` percentage points, 黄 by more than ``yellow_gap_pct``, else 绿; an indicator whose unit
  says 完全不可能 is 红. Gaps are taken between the two percentages as printed (two decimals, half-up),
  so the form's columns subtract exactly. Only 黄 and 红 lines become findings.
"""

# What the scoring and report assets say, in their metadata, when a monitoring cut-off skips them.
NOT_GRADED = (
    "绩效运行监控（年中截止日）不做年度评分与评价报告：年度未结束，见 monitoring.xlsx、monitoring.html / "
    "a monitoring cut-off is not graded: the year is not over"
)
