"""A DuckLake whose data path is object storage (s3://): moto's S3-compatible server on
loopback (a real HTTP server speaking the S3 protocol, not AWS), PostgreSQL as catalog."""

from __future__ import annotations

from datetime import date

import pytest

from tendon_pipeline.app.evaluate import evaluate_athletes
from tendon_pipeline.examples.generate import generate_example_inbox
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.warehouse.store import open_warehouse

pytestmark = pytest.mark.slow
KEY, SECRET = "tendon-test", "s3-secret-never-logged"


@pytest.fixture
def s3_bucket():
    server_module = pytest.importorskip("moto.server", reason="moto[server] (test extra) is not installed")
    boto3 = pytest.importorskip("boto3")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client("s3", endpoint_url=f"http://{host}:{port}", aws_access_key_id=KEY,
                          aws_secret_access_key=SECRET, region_name="us-east-1")
    client.create_bucket(Bucket="tendon-lake")
    yield f"{host}:{port}", client
    server.stop()


def test_a_lake_on_object_storage_stores_parquet_in_the_bucket(pg_database, s3_bucket, tmp_path, monkeypatch):
    endpoint, client = s3_bucket
    monkeypatch.setenv("TENDON_WAREHOUSE__S3_SECRET", SECRET)
    settings = load_settings(None, ingest_workers=1, warehouse={
        "url": f"ducklake:postgres:{pg_database}", "data_path": "s3://tendon-lake/warehouse/",
        "s3_endpoint": endpoint, "s3_url_style": "path", "s3_use_ssl": False, "s3_key_id": KEY})
    assert SECRET not in repr(settings.location) + str(settings.location)
    inbox = tmp_path / "inbox"
    generate_example_inbox(inbox, weeks=3, end=date(2026, 11, 20))
    files = sorted((inbox / "ben").glob("*.fit"))
    with open_warehouse(settings.location) as wh:
        report = ingest_paths(wh, settings, [str(inbox / "ben")], athlete="ben")
        evaluate_athletes(wh, settings, ["ben"])
    assert report.counts()["ingested"] == len(files)
    objects = [o["Key"] for o in client.list_objects_v2(Bucket="tendon-lake").get("Contents", [])]
    assert any(key.startswith("warehouse/main/records/") and key.endswith(".parquet") for key in objects)
    with open_warehouse(settings.location, read_only=True) as wh:
        stored = wh.con.execute("SELECT count(*) FROM activities").fetchone()[0]
        weeks = wh.con.execute("SELECT count(*) FROM weekly_load WHERE athlete_id = 'ben'").fetchone()[0]
        records = wh.con.execute("SELECT count(*) FROM records").fetchone()[0]
    assert stored == len(files) and weeks >= 3 and records > 1000
