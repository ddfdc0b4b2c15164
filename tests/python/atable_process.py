"""Helpers for Python tests of atable: stubs generated from proto/ with protoc and Debian's
grpc_python_plugin, and atable-server processes on ports the OS picks."""

import os
import re
import subprocess
import sys
import time


def generate_stubs(proto_dir, out_dir):
    """Generates the atable.v1 Python modules into out_dir and makes them importable."""
    protos = [os.path.join(root, f) for root, _, files in os.walk(os.path.join(proto_dir, "atable"))
              for f in files if f.endswith(".proto")]
    subprocess.run(["protoc", "-I", proto_dir, "--python_out", out_dir, "--grpc_python_out", out_dir,
                    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"] + protos, check=True)
    sys.path.insert(0, out_dir)


def create_key(server_binary, data_dir, *flags):
    """Creates an API key on a stopped server's data folder; returns its secret."""
    out = subprocess.run([server_binary, "keys", "create", "--data", data_dir] + list(flags),
                         check=True, capture_output=True, text=True).stdout
    return re.search(r"atable_[0-9a-f]+_[0-9a-f]+", out).group(0)


def start_server(server_binary, data_dir, log_path, *flags):
    """Starts atable-server on 127.0.0.1 and a free port; returns (process, "host:port")."""
    log = open(log_path, "a+")
    start = log.tell()
    process = subprocess.Popen([server_binary, "--listen", "127.0.0.1:0", "--data", data_dir] + list(flags),
                               stderr=log)
    for _ in range(600):
        time.sleep(0.05)
        log.seek(start)
        m = re.search(r"serving on (127\.0\.0\.1:\d+)", log.read())
        if m:
            return process, m.group(1)
        if process.poll() is not None:
            break
    log.seek(start)
    raise RuntimeError("atable-server did not start: " + log.read())
