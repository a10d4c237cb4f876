"""Data Docs that work on an intranet: no page fetches anything from outside the machine.

Great Expectations' Data Docs load Bootstrap, bootstrap-table, jQuery, Popper, Font Awesome, a date
picker and Vega from public CDNs, and their logo from a web bucket; a government intranet reaches
none of them, and the index page — a bootstrap-table filled by script — then shows nothing. After
GX has built the site, every page is rewritten here:

- every ``<link>``, ``<script src>``, ``<img>`` and CSS ``url()`` pointing at ``http(s)://`` is
  removed, and links to GX's web site keep their text only;
- one inline stylesheet (the layout the pages need: grid, tables, alerts, badges, tabs, icons as
  characters) and one inline script take their place. The script is a small stand-in for the
  jQuery calls the pages make: ``$(…).bootstrapTable({columns, data})`` renders the index's tables
  as plain HTML tables whose rows link to the validation pages, and the show/hide buttons of a
  validation page work; everything else is a no-op.

So the site is self-contained: the same content, styled plainly, readable offline.
"""

from __future__ import annotations

import re
from pathlib import Path

REMOTE = r"""(?:https?:)?//"""
_LINK = re.compile(rf"""<link\b[^>]*\bhref\s*=\s*["']{REMOTE}[^"']*["'][^>]*>""", re.I)
_SCRIPT = re.compile(rf"""<script\b[^>]*\bsrc\s*=\s*["']{REMOTE}[^"']*["'][^>]*>\s*</script>""", re.I | re.S)
_IMG = re.compile(rf"""<img\b[^>]*\bsrc\s*=\s*["']{REMOTE}[^"']*["'][^>]*/?>""", re.I)
_ANCHOR = re.compile(rf"""<a\b[^>]*\bhref\s*=\s*["']{REMOTE}[^"']*["'][^>]*>(.*?)</a>""", re.I | re.S)
_FORM = re.compile(rf"""<form\b[^>]*\baction\s*=\s*["']{REMOTE}[^"']*["'][^>]*>.*?</form>""", re.I | re.S)
_CSS_URL = re.compile(rf"""url\(\s*["']?{REMOTE}[^)"']*["']?\s*\)""", re.I)
_ANY = re.compile(rf"""(\b(?:href|src|action)\s*=\s*["']){REMOTE}[^"']*(["'])""", re.I)

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",Arial,sans-serif;font-size:14px;color:#212529;margin:0;background:#fff}
.container-fluid{padding:16px 32px}.row{display:flex;flex-wrap:wrap}.col-12,.col-md-10,.col-lg-10{flex:1 1 0;min-width:0}
.col-lg-2,.col-md-2{flex:0 0 180px;padding-right:16px}.sticky,.sticky-top{position:static}
nav.navbar{padding:8px 32px;border-bottom:1px solid #dee2e6;height:auto!important}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #dee2e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f5}tr.clickable-row{cursor:pointer}tr.clickable-row:hover td{background:#f8f9fa}
.alert{padding:8px 12px;border:1px solid #d6d8db;background:#e2e3e5;border-radius:4px;margin:8px 0}
.card{border:1px solid #dee2e6;border-radius:4px;margin:8px 0}.card-header{background:#f7f7f7;padding:8px 12px;border-bottom:1px solid #dee2e6}
.card-body{padding:8px 12px}.badge{display:inline-block;padding:2px 6px;border-radius:4px;background:#e9ecef;font-size:12px}
.badge-success,.text-success{color:#1e7e34}.badge-danger,.text-danger{color:#bd2130}.text-muted{color:#6c757d}
ul.nav-tabs{list-style:none;padding:0;margin:8px 0;border-bottom:1px solid #dee2e6}ul.nav-tabs li{display:inline-block;margin-right:12px}
.tab-content>.tab-pane{display:block;opacity:1;margin-bottom:24px}.fade{opacity:1}.collapse{display:block}
.cooltip>span{display:none}.btn{border:1px solid #adb5bd;background:#f8f9fa;border-radius:4px;padding:2px 8px;cursor:pointer}
.fa-check-circle::before{content:"\\2714";color:#1e7e34}.fa-times::before,.fa-times-circle::before{content:"\\2718";color:#bd2130}
.fa-exclamation-triangle::before{content:"\\26A0"}.fas,.far,.fa{font-style:normal}
"""

SHIM = """
(function(){
  function list(x){ if(typeof x==='string'){ try { return Array.prototype.slice.call(document.querySelectorAll(x)); } catch(e){ return []; } }
    if(x && x.nodeType){ return [x]; } if(Array.isArray(x)){ return x; } return []; }
  function render(table, opts){
    var cols=opts.columns||[], rows=opts.data||[], head='<thead><tr>', body='<tbody>';
    cols.forEach(function(c){ head+='<th>'+(c.title||c.field)+'</th>'; });
    rows.forEach(function(r){
      var link=r._table_row_link_path;
      body+='<tr'+(link?' class="clickable-row" data-href="'+link+'"':'')+'>';
      cols.forEach(function(c, i){ var v=r[c.field]; v=(v===undefined||v===null)?'':String(v);
        body+='<td>'+(i===0&&link?'<a href="'+link+'">'+v+'</a>':v)+'</td>'; });
      body+='</tr>'; });
    table.innerHTML=head+'</tr></thead>'+body+'</tbody>';
    Array.prototype.forEach.call(table.querySelectorAll('tr.clickable-row'), function(tr){
      tr.addEventListener('click', function(){ window.location.href=tr.getAttribute('data-href'); }); });
  }
  function Q(els){
    var q={length:els.length};
    q.bootstrapTable=function(o){ if(o && typeof o==='object'){ els.forEach(function(t){ render(t,o); }); } return q; };
    q.parent=function(){ return Q(els.map(function(e){ return e.parentElement; }).filter(Boolean)); };
    q.each=function(f){ els.forEach(function(e,i){ f.call(e,i,e); }); return q; };
    q.fadeIn=q.show=function(){ els.forEach(function(e){ e.style.display=''; }); return q; };
    q.fadeOut=q.hide=function(){ els.forEach(function(e){ e.style.display='none'; }); return q; };
    q.on=q.click=q.tooltip=q.popover=q.tab=q.collapse=q.datepicker=q.addClass=q.removeClass=function(){ return q; };
    q.ready=function(f){ document.readyState==='loading'?document.addEventListener('DOMContentLoaded',f):f(); return q; };
    return q;
  }
  window.$=window.jQuery=function(x){ if(typeof x==='function'){ return Q([]).ready(x); } return Q(list(x)); };
})();
"""


def make_offline(site: Path) -> int:
    """Rewrite every HTML page of a Data Docs site to need nothing from the network; returns the pages rewritten."""
    pages = sorted(Path(site).rglob("*.html"))
    for path in pages:
        path.write_text(offline_page(path.read_text(encoding="utf-8")), encoding="utf-8")
    return len(pages)


def offline_page(html: str) -> str:
    html = _SCRIPT.sub("", html)
    html = _LINK.sub("", html)
    html = _IMG.sub("", html)
    html = _FORM.sub("", html)
    html = _ANCHOR.sub(r"\1", html)
    html = _ANY.sub(r"\1#\2", html)
    html = _CSS_URL.sub("none", html)
    inline = f"<style>{CSS}</style><script>{SHIM}</script>"
    return re.sub(r"(<head\b[^>]*>)", lambda m: m.group(1) + inline, html, count=1, flags=re.I)
