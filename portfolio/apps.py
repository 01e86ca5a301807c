from django.apps import AppConfig
from django.conf import settings


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "Portfolios and people"

    def ready(self):
        from portfolio.uploads import upload_temp_dir

        # Django writes a large upload's temporary file there, and does not make the folder.
        upload_temp_dir(settings.FILE_UPLOAD_TEMP_DIR)
