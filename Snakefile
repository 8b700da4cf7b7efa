# VGG16 Atlas: the table of contents. Rules are grouped by stage in rules/*.smk; what each job
# does lives in the `pipeline` package, and every rule calls `python -m pipeline ...`.
import os

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/render.smk"
include: "rules/measure.smk"
include: "rules/site.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
