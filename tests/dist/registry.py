"""A read-only npm registry on 127.0.0.1 serving the packed tarballs in a folder, so
tests/dist.rs can run `npm install -g ccenv` exactly as a user does: npm reads the
packuments, picks the platform package by os/cpu and fetches tarballs from here.

usage: python3 registry.py FOLDER  (prints the port, then serves until killed)
"""

import base64
import hashlib
import http.server
import json
import sys
import tarfile
from pathlib import Path
from urllib.parse import unquote


def packuments(folder, base):
    docs, files = {}, {}
    for tgz in sorted(Path(folder).glob("*.tgz")):
        data = tgz.read_bytes()
        with tarfile.open(tgz) as tar:
            manifest = json.load(tar.extractfile("package/package.json"))
        name, version = manifest["name"], manifest["version"]
        files["/-/" + tgz.name] = data
        manifest["dist"] = {
            "tarball": f"{base}/-/{tgz.name}",
            "shasum": hashlib.sha1(data).hexdigest(),
            "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
        }
        doc = docs.setdefault(name, {"name": name, "dist-tags": {}, "versions": {}})
        doc["versions"][version] = manifest
        doc["dist-tags"]["latest"] = version
    return docs, files


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), None)
    base = f"http://127.0.0.1:{server.server_port}"
    docs, files = packuments(sys.argv[1], base)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = unquote(self.path.split("?")[0])
            status, kind = 200, "application/json"
            if path in files:
                body, kind = files[path], "application/octet-stream"
            elif path[1:] in docs:
                body = json.dumps(docs[path[1:]]).encode()
            else:
                # Platform packages not built here (darwin, win32, linux-arm64): npm
                # skips an optional dependency it cannot find, as for a foreign os/cpu.
                status, body = 404, b'{"error":"not found"}'
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server.RequestHandlerClass = Handler
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
