# The light work: grids, one pages job per layer, the network page.


rule grid:
    input:
        chunk_manifests,
    output:
        report(layout.grid_png(OUT, "{layer}"), caption="../report/grid.rst", category="Layers",
               labels={"layer": "{layer}"}),
        layout.grid_thumb(OUT, "{layer}"),
        directory(layout.filter_thumbs(OUT, "{layer}")),
    log:
        layout.log(OUT, "grid", "{layer}"),
    benchmark:
        layout.benchmark(OUT, "grid", "{layer}")
    params:
        settings=lambda wildcards: settings.to_json(settings.grid(CFG, wildcards.layer)),
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/atlas.yaml"
    shell:
        "python -m pipeline grid --layer {wildcards.layer} --settings {params.settings:q} > {log:q} 2>&1"


rule pages:
    input:
        chunk_manifests,
        layout.grid_thumb(OUT, "{layer}"),
        layout.twins_json(OUT, "{layer}"),
        neighbour_thumbs,
        [layout.examples_manifest(OUT, "{layer}")] if CFG.examples != "none" else [],
        [layout.caricatures_manifest(OUT, "{layer}")] if CFG.caricatures else [],
        [layout.trust_manifest(OUT, "{layer}")] if settings.trusting(CFG) else [],
        templates=TEMPLATES,
    output:
        layout.layer_page(OUT, "{layer}"),
        layout.layer_summary(OUT, "{layer}"),
    log:
        layout.log(OUT, "pages", "{layer}"),
    benchmark:
        layout.benchmark(OUT, "pages", "{layer}")
    params:
        settings=lambda wildcards: settings.to_json(settings.pages(CFG, wildcards.layer)),
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/atlas.yaml"
    shell:
        "python -m pipeline pages --layer {wildcards.layer} --settings {params.settings:q} > {log:q} 2>&1"


rule site:
    input:
        [layout.layer_summary(OUT, layer) for layer in CFG.filters],
        # What the examples could not read, named on the network page.
        [layout.examples_manifest(OUT, layer) for layer in CFG.filters] if CFG.examples != "none" else [],
        [f for d in CFG.dreams for f in layout.dream_files(OUT, d.name)],
        [f for c in CFG.classes for f in layout.class_files(OUT, c.name)],
        templates=TEMPLATES,
    output:
        layout.site_files(OUT, bool(CFG.dreams), bool(CFG.classes)),
        layout.site_manifest(OUT),
    log:
        layout.log(OUT, "site", "site"),
    benchmark:
        layout.benchmark(OUT, "site", "site")
    params:
        settings=settings.to_json(settings.site(CFG)),
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/atlas.yaml"
    shell:
        "python -m pipeline site --settings {params.settings:q} > {log:q} 2>&1"


rule metrics:
    # Every filter's numbers in one table (pipeline/site/metrics.py), from their records: its
    # inputs are the manifests of the jobs that write them, so it reruns when a record changes,
    # never for a title or a template.
    input:
        [manifest for layer in CFG.filters for manifest in record_manifests(layer)],
    output:
        layout.metrics_csv(OUT),
    log:
        layout.log(OUT, "metrics", "metrics"),
    params:
        settings=settings.to_json(settings.metrics(CFG)),
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/atlas.yaml"
    shell:
        "python -m pipeline metrics --settings {params.settings:q} > {log:q} 2>&1"

