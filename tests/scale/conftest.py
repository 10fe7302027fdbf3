"""Fixtures of the scale-out tests (peers on loopback: :mod:`scalepeers`)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scalepeers import BIN, Cluster, free_port, start_cluster, stop, wait_port


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc, 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A boto3 client on the moto server; AWS_ENDPOINT_URL points pacsguard at it too."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    yield client
    for bucket in client.list_buckets().get("Buckets", []):  # a clean server for the next test
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=bucket["Name"], Key=obj["Key"])
        client.delete_bucket(Bucket=bucket["Name"])


#: Azurite's well-known development account (public, in Microsoft's documentation).
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")
AZURITE = Path(__file__).resolve().parents[2] / ".peers" / "azurite" / "node_modules" / ".bin"


@pytest.fixture(scope="session")
def azurite_connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's blob service on 127.0.0.2 (``make test`` installs it with npm)."""
    exe = AZURITE / "azurite-blob"
    if not exe.exists():
        pytest.fail("Azurite is not installed (make test installs it: npm install azurite)")
    port = free_port()
    proc = subprocess.Popen([str(exe), "--blobHost", "127.0.0.2", "--blobPort", str(port),
                             "--location", str(tmp_path_factory.mktemp("azurite")),
                             "--skipApiVersionCheck", "--loose", "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc, 60, host="127.0.0.2")
        yield (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
               f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.2:{port}/devstoreaccount1;")
    finally:
        stop(proc)


@pytest.fixture
def az(azurite_connection: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An adlfs file system on Azurite; AZURE_STORAGE_CONNECTION_STRING points pacsguard at
    it too (the standard variable of Azure's SDKs)."""
    import fsspec

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_connection)
    fs = fsspec.filesystem("az", use_listings_cache=False, skip_instance_cache=True)
    yield fs
    # A clean store for the next test (adlfs lists containers only with its listings cache).
    cached = fsspec.filesystem("az", skip_instance_cache=True)
    for container in cached.ls(""):
        cached.rm(container, recursive=True)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A scheduler and two single-threaded worker processes on loopback, for one test."""
    if shutil.which("dask", path=str(BIN)) is None:
        pytest.fail("the dask extra is not installed (pip install -e '.[dask]')")
    c = start_cluster(2, tmp_path / "dask-logs")
    try:
        yield c
    finally:
        c.stop()
