#!/usr/bin/env python3
"""S3 helpers for Scripts/benchmark.sh --store s3, with a client Lethe did not write (boto3).

    s3-bench.py make-bucket NAME
    s3-bench.py bytes BUCKET [PREFIX]          total size of the objects under PREFIX, in bytes
    s3-bench.py put-rate BUCKET --threads N [--object-mib M] [--total-mib T]
    s3-bench.py get-rate BUCKET --threads N    reads back what put-rate wrote with N threads

put-rate is the floor an S3 backup is measured against: PutObject of T MiB in objects of M MiB
(random bytes made in memory before the clock starts, so nothing is read from disk and nothing
compresses), N uploads in flight, one boto3 client per thread, path-style addressing, SigV4 with
the signed payload hash (botocore's default over http). It prints one JSON line:
{"op": "put", "threads", "objects", "bytes", "seconds", "mb_per_s"} (MB = 10^6 bytes).
get-rate does the same with GetObject of every object put-rate left (body read whole).

Endpoint and credentials come from LETHE_TEST_S3_ENDPOINT, LETHE_TEST_S3_REGION,
LETHE_TEST_S3_ACCESS_KEY_ID and LETHE_TEST_S3_SECRET_ACCESS_KEY (Scripts/seaweedfs.sh env).
"""
import argparse
import concurrent.futures
import json
import os
import sys
import threading
import time

import boto3
from botocore.config import Config


def client():
    return boto3.session.Session().client(
        "s3",
        endpoint_url=os.environ["LETHE_TEST_S3_ENDPOINT"],
        region_name=os.environ.get("LETHE_TEST_S3_REGION", "us-east-1"),
        aws_access_key_id=os.environ["LETHE_TEST_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["LETHE_TEST_S3_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}, max_pool_connections=16),
    )


def total_bytes(s3, bucket, prefix):
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        total += sum(item["Size"] for item in page.get("Contents", []))
    return total


def run_threads(threads, keys, work):
    """Runs work(client, key) for every key with `threads` workers, one client each; returns
    (bytes, seconds) with the clock started after every client exists."""
    local = threading.local()
    clients = [client() for _ in range(threads)]
    handed = iter(clients)
    lock = threading.Lock()

    def task(key):
        if not hasattr(local, "s3"):
            with lock:
                local.s3 = next(handed)
        return work(local.s3, key)

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        moved = sum(pool.map(task, keys))
    return moved, time.monotonic() - start


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["make-bucket", "bytes", "put-rate", "get-rate"])
    parser.add_argument("bucket")
    parser.add_argument("prefix", nargs="?", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--object-mib", type=int, default=16)
    parser.add_argument("--total-mib", type=int, default=256)
    args = parser.parse_args(argv)
    s3 = client()
    if args.command == "make-bucket":
        s3.create_bucket(Bucket=args.bucket)
    elif args.command == "bytes":
        print(total_bytes(s3, args.bucket, args.prefix))
    elif args.command == "put-rate":
        count = max(1, args.total_mib // args.object_mib)
        # Distinct random bodies, so no layer can deduplicate or compress them.
        bodies = [os.urandom(args.object_mib << 20) for _ in range(min(count, 2 * args.threads))]
        keys = [f"put-rate/t{args.threads}/{i:04d}" for i in range(count)]

        def put(s3, key):
            body = bodies[int(key.rsplit("/", 1)[1]) % len(bodies)]
            s3.put_object(Bucket=args.bucket, Key=key, Body=body)
            return len(body)

        moved, seconds = run_threads(args.threads, keys, put)
        print(json.dumps({"op": "put", "threads": args.threads, "objects": count, "bytes": moved,
                          "seconds": round(seconds, 3), "mb_per_s": round(moved / seconds / 1e6, 1)}))
    elif args.command == "get-rate":
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket, Prefix="put-rate/"):
            keys += [item["Key"] for item in page.get("Contents", [])]

        def get(s3, key):
            return len(s3.get_object(Bucket=args.bucket, Key=key)["Body"].read())

        moved, seconds = run_threads(args.threads, keys, get)
        print(json.dumps({"op": "get", "threads": args.threads, "objects": len(keys), "bytes": moved,
                          "seconds": round(seconds, 3), "mb_per_s": round(moved / seconds / 1e6, 1)}))


if __name__ == "__main__":
    main(sys.argv[1:])
