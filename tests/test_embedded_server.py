"""``ayon --local-server``: the embedded default that the README's main command starts."""

from __future__ import annotations

import socket

from conftest import isolated_env, run_ayon


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_local_server_flag_bootstraps_against_the_embedded_server(tmp_path):
    env = isolated_env(tmp_path)
    env.update(AYON_LOCAL_SERVER_DIR=str(tmp_path / "server"),
               AYON_LOCAL_SERVER_PORT=str(_free_port()))
    done = run_ayon(["--local-server", "--headless", "addon", "demo_tools", "hello"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello from demo_tools! (demo_tools 1.0.0)"
    assert (tmp_path / "server").is_dir()
    assert (tmp_path / "local" / "addons" / "demo_tools_1.0.0").is_dir()


def test_a_running_server_of_the_same_data_is_reused(tmp_path):
    from ayon_launcher.localserver.embedded import start_embedded

    env = isolated_env(tmp_path)
    port = _free_port()
    env.update(AYON_LOCAL_SERVER_DIR=str(tmp_path / "server"), AYON_LOCAL_SERVER_PORT=str(port))
    first = start_embedded(tmp_path / "server", port=port)
    try:
        script = tmp_path / "url.py"
        script.write_text("import os; print(os.environ['AYON_SERVER_URL'])")
        done = run_ayon(["--local-server", "--headless", str(script)], env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == first.url == f"http://127.0.0.1:{port}"
    finally:
        first.close()


def test_a_foreign_server_on_the_port_is_not_used(tmp_path, local_server):
    env = isolated_env(tmp_path)
    port = int(local_server.url.rsplit(":", 1)[1])
    env.update(AYON_LOCAL_SERVER_DIR=str(tmp_path / "server"), AYON_LOCAL_SERVER_PORT=str(port))
    script = tmp_path / "url.py"
    script.write_text("import os; print(os.environ['AYON_SERVER_URL'])")
    done = run_ayon(["--local-server", "--headless", str(script)], env)
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("http://127.0.0.1:") and url != local_server.url
