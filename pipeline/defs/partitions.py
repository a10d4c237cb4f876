"""One partition per evaluation folder under the raw root; registered when the folder appears."""

import dagster as dg

evaluations = dg.DynamicPartitionsDefinition(name="evaluations")
