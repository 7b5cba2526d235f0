"""Run kazoo's own test suite (shipped by Debian's python3-kazoo) against a
corrald it starts: kazoo's harness normally starts a ZooKeeper cluster
itself; here its cluster is replaced by one running corrald.

usage: run_against_corrald.py <kazoo test files or ids...> [pytest args]"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import harness  # noqa: E402
import kazoo.testing.harness as kazoo_harness  # noqa: E402
import pytest  # noqa: E402


class _Server:
    """What kazoo's harness reads of a cluster member."""

    def __init__(self, address):
        self.address = address
        self.running = True


class _Cluster(list):
    """A one-server 'cluster' that corrald already runs."""

    def start(self):
        pass

    def stop(self):
        pass

    def terminate(self):
        pass


def main(argv):
    srv = harness.CorraldServer(props={"zookeeper.extendedTypesEnabled": "true"})
    srv.start()
    cluster = _Cluster([_Server(srv.hosts)])
    kazoo_harness.get_global_cluster = lambda: cluster
    try:
        os.chdir(os.path.dirname(kazoo_harness.__file__) + "/../tests")
        return pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:logging"] + argv)
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
