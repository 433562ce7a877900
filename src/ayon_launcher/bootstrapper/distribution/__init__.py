"""Bundle and add-on distribution: sources, archive validation, safe extraction, local store.

Modules: ``models`` (server payloads), ``bundles`` (bundle choice), ``sources`` (server/http/
filesystem fetch with checksum and retries), ``archives`` (safe extract), ``store`` (the one
owner of the local store: item folders, metadata, locks, in-use marks, installed bundles,
clean-up), ``sync`` (parallel install), ``distribute`` (all of it for one bundle),
``progress`` (rich bar).
"""
