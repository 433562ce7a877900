"""A keyring backend for tests that stands in for a locked OS keychain: it reads, never saves.

Some desktop keychains answer reads while locked (or while their unlock prompt cannot be
shown) but refuse every write with ``PasswordSetError``; none exists on this machine.
The values it reads come from the JSON file named by ``TEST_KEYRING_FILE``.
"""

from __future__ import annotations

from keyring.errors import PasswordDeleteError, PasswordSetError

from keyring_stand_in import FileStandInKeyring


class LockedStandInKeyring(FileStandInKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError("the keychain is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError("the keychain is locked")
