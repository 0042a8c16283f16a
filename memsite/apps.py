from django.apps import AppConfig


class MemsiteConfig(AppConfig):
    """The project package as an app, so its management commands and templates are found."""

    name = "memsite"
    verbose_name = "memsite"

    def ready(self) -> None:
        from memsite import metrics

        metrics.install()
