from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yingji.core"
    label = "core"
    verbose_name = "基础平台"

    def ready(self) -> None:
        from django.conf import settings

        from yingji.core import accounts, audit, layers, nav, pagecache, workcalendar

        # Years announced after the pinned chinesecalendar release (a bad file stops
        # start-up with the file, line and field named).
        workcalendar.load_supplement(getattr(settings, "YINGJI_HOLIDAYS_FILE", None))
        audit.connect()
        pagecache.connect_signals()
        accounts.connect()
        layers.register_core_layers()
        nav.register("工作台", "home", group="overview", order=1)
        nav.register("一张图", "map", group="overview", order=5)
        nav.register("指挥大屏", "command", group="command", order=29, roles=nav.CITY_ROLES)
        nav.register("投递渠道", "channels", group="system", order=910, roles={"admin"})
        nav.register("账号安全", "account_lockouts", group="system", order=905, roles={"admin"})
        nav.register("管理后台", "admin:index", group="system", order=999, staff_only=True)
