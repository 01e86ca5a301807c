from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessment and quality assurance"

    def ready(self) -> None:
        # Models are importable once the registry is ready, and not before.
        from assessments.models import ASSESSOR_JUDGEMENTS, CRITERION_LINKS
        from portfolio.models import ASSESSOR_JUDGEMENTS as judgements
        from portfolio.models import CRITERION_LINKS as links

        judgements.update(ASSESSOR_JUDGEMENTS)
        links.update(CRITERION_LINKS)

        from assessments import signable

        signable.connect()

        from assessments.reviews import centre_reviews_due
        from portfolio.views import CENTRE_HOME_PANELS

        CENTRE_HOME_PANELS.append(("assessments/centre_reviews_due.html", centre_reviews_due))
