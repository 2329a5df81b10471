import factory

from papers.models import Conference, Lab, Membership, Note, Paper, Presentation, ReadingStatus, Session, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class ConferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conference
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"conf-{n}")
    name = factory.Sequence(lambda n: f"Conference {n}")
    timezone = "Europe/Vienna"


class PaperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Paper

    conference = factory.SubFactory(ConferenceFactory)
    forum_id = factory.Sequence(lambda n: f"forum{n:05d}")
    title = factory.Sequence(lambda n: f"Paper number {n}")
    authors = factory.LazyFunction(lambda: ["Ada Lovelace", "Alan Turing"])
    abstract = "We study things."
    tier = Paper.Tier.POSTER


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    conference = factory.SubFactory(ConferenceFactory)
    kind = Session.Kind.POSTER
    title = factory.Sequence(lambda n: f"Poster Session {n}")


class PresentationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Presentation

    paper = factory.SubFactory(PaperFactory)
    session = factory.SubFactory(SessionFactory, conference=factory.SelfAttribute("..paper.conference"))


class LabFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lab

    name = factory.Sequence(lambda n: f"Lab {n}")
    slug = factory.Sequence(lambda n: f"lab-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    lab = factory.SubFactory(LabFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class ReadingStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReadingStatus

    user = factory.SubFactory(UserFactory)
    paper = factory.SubFactory(PaperFactory)


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    paper = factory.SubFactory(PaperFactory)
    author = factory.SubFactory(UserFactory)
    body = "A note."
