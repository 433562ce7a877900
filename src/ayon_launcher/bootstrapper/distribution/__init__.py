"""Bundle and add-on distribution: sources, archive validation, safe extraction, local store.

Modules: ``models`` (server payloads), ``bundles`` (bundle choice), ``sources`` (server/http/
filesystem fetch with checksum and retries), ``archives`` (safe extract), ``store`` (layout,
metadata, lock, atomic install), ``sync`` (parallel install), ``state`` (installed bundles,
offline start, clean-up), ``distribute`` (all of it for one bundle), ``progress`` (rich bar).
"""
