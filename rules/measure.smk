# What is measured beside the pictures: rotation twins per layer, dataset examples.


# Per layer, after its ascents: which filters answer each other's pictures rotated or
# mirrored (pipeline/measure/twins.py). Four batched forward passes over the layer's pictures.
rule twins:
    input:
        WEIGHTS_INPUT,
        chunk_manifests,
    output:
        layout.twins_json(OUT, "{layer}"),
    log:
        layout.log(OUT, "twins", "{layer}"),
    benchmark:
        layout.benchmark(OUT, "twins", "{layer}")
    params:
        settings=lambda wildcards: settings.to_json(settings.twins(CFG, wildcards.layer)),
    threads: gpu_job_threads
    resources:
        gpu=GPU_PER_JOB,
        mem_mb=8000,
        runtime=30,
    conda:
        "../envs/atlas.yaml"
    shell:
        "python -m pipeline twins --layer {wildcards.layer} --settings {params.settings:q} > {log:q} 2>&1"


if EXAMPLES_TODO:

    # One pass over the examples images for the layers whose examples are missing or were found
    # with other settings (pipeline/measure/examples.py; common.smk's EXAMPLES_TODO): the whole
    # selection on a first run, a layer added later alone. The folder's listing is in the
    # settings: new or changed images rerun this job, trust, caricatures and the pages, never an
    # ascent. The other layers' manifests are plain inputs, and what reads them stays as it is.
    rule examples:
        input:
            WEIGHTS_INPUT,
        output:
            [layout.examples_manifest(OUT, layer) for layer in EXAMPLES_TODO],
        log:
            layout.log(OUT, "examples", "examples"),
        benchmark:
            layout.benchmark(OUT, "examples", "examples")
        params:
            settings=settings.to_json(settings.examples(CFG, EXAMPLES_TODO)),
        threads: gpu_job_threads
        resources:
            gpu=GPU_PER_JOB,
            mem_mb=8000,
            runtime=600,
        conda:
            "../envs/atlas.yaml"
        shell:
            "python -m pipeline examples --settings {params.settings:q} 2> {log:q}"


if CFG.caricatures:

    # Per layer, after the examples: each filter's top example accentuated towards it
    # (pipeline/optvis/caricature.py). New examples rerun these and the pages, never an ascent.
    rule caricatures:
        input:
            WEIGHTS_INPUT,
            layout.examples_manifest(OUT, "{layer}"),
        output:
            layout.caricatures_manifest(OUT, "{layer}"),
        log:
            layout.log(OUT, "caricatures", "{layer}"),
        benchmark:
            layout.benchmark(OUT, "caricatures", "{layer}")
        params:
            settings=lambda wildcards: settings.to_json(settings.caricatures(CFG, wildcards.layer)),
        threads: gpu_job_threads
        resources:
            gpu=GPU_PER_JOB,
            mem_mb=8000,
            runtime=60,
        conda:
            "../envs/atlas.yaml"
        shell:
            "python -m pipeline caricatures --layer {wildcards.layer} --settings {params.settings:q} 2> {log:q}"


if settings.trusting(CFG):

    # Per layer, after its pictures and the examples: each filter's MIS, natural and synthetic,
    # and its processing path (pipeline/measure/trust.py). New examples rerun these and the
    # pages, never an ascent; new pictures rerun their layer's.
    rule trust:
        input:
            WEIGHTS_INPUT,
            chunk_manifests,
            layout.examples_manifest(OUT, "{layer}"),
        output:
            layout.trust_manifest(OUT, "{layer}"),
        log:
            layout.log(OUT, "trust", "{layer}"),
        benchmark:
            layout.benchmark(OUT, "trust", "{layer}")
        params:
            settings=lambda wildcards: settings.to_json(settings.trust(CFG, wildcards.layer)),
        threads: gpu_job_threads
        resources:
            gpu=GPU_PER_JOB,
            mem_mb=8000,
            runtime=60,
        conda:
            "../envs/atlas.yaml"
        shell:
            "python -m pipeline trust --settings {params.settings:q} 2> {log:q}"
