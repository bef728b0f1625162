"""Generators of the operations artefacts under deploy/: Grafana boards and Kubernetes manifests.

The boards are code (``grafana_boards``, on the Grafana Foundation SDK through ``grafana_panels``);
``grafana_build`` writes them as JSON into deploy/grafana/dashboards, ``grafana_push`` sends them to a
Grafana (grafana-client), ``k8s_manifests`` writes deploy/k8s/generated from the Prometheus rules and
the boards. ``pantau grafana build|push`` and ``pantau manifests`` run them; deploy/ holds only what
they write and the hand-written artefacts.
"""
