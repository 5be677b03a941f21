#!/usr/bin/env python3
"""An S3 client Lethe did not write (boto3), for Lethe's end-to-end tests against SeaweedFS.

    s3tool.py make-bucket NAME [--versioned] [--object-lock]
    s3tool.py versions BUCKET PREFIX      prints every version and delete marker, one per line: KIND KEY VERSION-ID
    s3tool.py lock BUCKET PREFIX DAYS     puts a GOVERNANCE retention of DAYS days on the newest version of every object

Endpoint and credentials come from LETHE_TEST_S3_ENDPOINT, LETHE_TEST_S3_REGION,
LETHE_TEST_S3_ACCESS_KEY_ID and LETHE_TEST_S3_SECRET_ACCESS_KEY (Scripts/seaweedfs.sh env).
"""
import datetime
import os
import sys

import boto3
from botocore.config import Config


def client():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["LETHE_TEST_S3_ENDPOINT"],
        region_name=os.environ.get("LETHE_TEST_S3_REGION", "us-east-1"),
        aws_access_key_id=os.environ["LETHE_TEST_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["LETHE_TEST_S3_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )


def versions(s3, bucket, prefix):
    found = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        found += [("version", v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        found += [("marker", m["Key"], m["VersionId"]) for m in page.get("DeleteMarkers", [])]
    return found


def main(argv):
    s3 = client()
    command = argv[0]
    if command == "make-bucket":
        name, flags = argv[1], set(argv[2:])
        if "--object-lock" in flags:
            s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        else:
            s3.create_bucket(Bucket=name)
        if "--versioned" in flags and "--object-lock" not in flags:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    elif command == "versions":
        for kind, key, version in versions(s3, argv[1], argv[2]):
            print(kind, key, version)
    elif command == "lock":
        bucket, prefix, days = argv[1], argv[2], int(argv[3])
        until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                s3.put_object_retention(
                    Bucket=bucket, Key=item["Key"], Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
                print("locked", item["Key"])
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
