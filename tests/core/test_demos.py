"""The demo loader registry: every module registers its `yingji demo` step."""

from django.apps import apps

from yingji.core import demos


def test_every_module_registers_its_demo_step_in_the_demo_order():
    labels = [d.label for d in demos.loaders()]
    modules = [
        "workplan",
        "risk",
        "monitoring",
        "alerts",
        "response",
        "enforcement",
        "responsibility",
    ]
    assert labels == [apps.get_app_config(m).verbose_name for m in modules]


def test_loaders_run_by_order_then_label_and_registering_again_replaces(monkeypatch):
    monkeypatch.setattr(demos, "_LOADERS", {})
    demos.register(20, "乙", lambda run: "b")
    demos.register(10, "丙", lambda run: None)
    demos.register(20, "甲", lambda run: "a")
    demos.register(5, "乙", lambda run: "b2")
    assert [(d.order, d.label) for d in demos.loaders()] == [(5, "乙"), (10, "丙"), (20, "甲")]
    assert demos.loaders()[0].load(demos.DemoRun(stdout=None, seed=1)) == "b2"
