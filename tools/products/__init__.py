"""The product catalogue generator: ``python -m tools.products`` (or ``make products``).

Input: ``sdk_snapshot.json`` beside this file — what :mod:`tools.products.extract` read from the official
``alibabacloud-<product><YYYYMMDD>`` SDK packages or the Darabonba specs they are generated from (package name
and version, API version, endpoint rule, regional endpoint map, API style, request gateway), which packages the
index lists (:mod:`tools.products.sync`), plus the few curated facts the SDKs cannot tell (which of several API
versions OOS uses where the product's default is not it, OOS ``Service`` spellings, OOS-internal services),
each with its reason.

Output: ``plugins/module_utils/product_catalog.py`` (generated, committed). Commands::

    python -m tools.products                  # regenerate the module from the snapshot (offline)
    python -m tools.products --check          # exit 1 when the module is not what the snapshot gives
    python -m tools.products sync INDEX DEFAULTS SPECS
                                              # every product of the index listing INDEX, at its default
                                              # version (DEFAULTS: aliyun-openapi-meta's products.json), read
                                              # from SPECS (a checkout of aliyun/alibabacloud-sdk)
    python -m tools.products extract PKG...   # read SDK wheels/sdists/folders or spec folders into the snapshot
                                              # (pip download --no-deps -d /tmp/sdk alibabacloud-kms20160120)
"""
