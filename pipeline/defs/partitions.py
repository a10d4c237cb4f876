"""One partition per evaluation folder under the raw root; registered when the folder appears."""

import dagster as dg

EVALUATIONS = "evaluations"  # the definition's name (its .name attribute is typed optional)
evaluations = dg.DynamicPartitionsDefinition(name=EVALUATIONS)
