"""De-identify on a Dask cluster that you start yourself: here a LocalCluster on this machine.

    python examples/dask_localcluster.py IN OUT --key-file site.key [more pacsguard deid options]

Any Dask cluster object works the same way: swap ``LocalCluster`` for
``dask_jobqueue.SLURMCluster`` (or PBSCluster, ...) or ``dask_kubernetes.operator.KubeCluster``
and pass its ``scheduler_address`` to ``pacsguard deid --executor dask --scheduler``
(docs/scale.md). pacsguard's own coordinator, this process, keeps the journal, the summary
and the quarantine list; the workers only de-identify and write.
"""

from __future__ import annotations

import sys

from distributed import LocalCluster

from pacsguard.cli import main


def run(argv: list[str], workers: int = 2) -> int:
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster:
        return main(["deid", "--executor", "dask", "--scheduler", cluster.scheduler_address,
                     "--no-progress", *argv])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
