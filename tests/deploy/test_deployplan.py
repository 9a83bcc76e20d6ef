"""The deployment plan (core/deployplan.py), without a database: which processes,
on which ports, the proxy's configuration and the restart back-off."""

import pytest

from yingji.core import deployplan


def test_two_of_each_on_loopback_ports_after_the_proxy(tmp_path):
    lay = deployplan.layout(tmp_path, web=2, port=8100, mqtt_port=18830)
    procs = deployplan.processes(lay, web=2, queue=2, ingest=2, web_workers=3, web_threads=5)
    assert [p.name for p in procs] == [
        "web-0", "web-1", "queue-0", "queue-1", "ingest-0", "ingest-1"
    ]  # fmt: skip
    web = [p for p in procs if p.group == "web"]
    assert [p.port for p in web] == [8101, 8102]
    assert "127.0.0.1:8101" in web[0].argv and "gthread" in web[0].argv
    assert web[0].argv[web[0].argv.index("--workers") + 1] == "3"
    assert web[0].argv[web[0].argv.index("--threads") + 1] == "5"
    queue = [p for p in procs if p.group == "queue"]
    # Only the first consumer enqueues periodic jobs.
    assert "--no-periodic" not in queue[0].argv and "--no-periodic" in queue[1].argv
    ingest = [p for p in procs if p.group == "ingest"]
    for i, p in enumerate(ingest):
        assert p.argv[p.argv.index("--partition") + 1] == f"{i}/2"
        assert p.argv[p.argv.index("--client-id") + 1] == f"yingji-ingest-{i}of2"  # stable
        assert p.argv[p.argv.index("--port") + 1] == "18830"


def test_the_proxy_checks_each_web_process_and_retries_only_what_is_safe(tmp_path):
    lay = deployplan.layout(tmp_path, web=3, port=9000, mqtt_port=19000)
    cfg = deployplan.haproxy_config(lay)
    assert "bind 127.0.0.1:9000" in cfg
    for i, port in enumerate((9001, 9002, 9003)):
        assert f"server web-{i} 127.0.0.1:{port} check inter 2s" in cfg
    for line in (
        f"option httpchk GET {deployplan.HEALTH_PATH}",
        "timeout check 5s",
        "retry-on conn-failure empty-response",
        "option redispatch",
        "retries 3",
        "http-request disable-l7-retry unless METH_GET",
    ):
        assert line in cfg


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"web": 0}, "--web 0"),
        ({"web": 2, "port": 8100, "mqtt_port": 8101}, "--mqtt-port 8101"),
        ({"web": 2, "port": 65535}, "端口 65536"),
    ],
)
def test_a_bad_layout_is_refused_naming_the_option(tmp_path, kwargs, words):
    with pytest.raises(deployplan.PlanError, match=words):
        deployplan.layout(tmp_path, **kwargs)


def test_restarts_back_off_and_are_capped():
    delays = [deployplan.backoff(n) for n in range(1, 12)]
    assert delays[0] == 0.5 and delays == sorted(delays) and max(delays) == 30.0
