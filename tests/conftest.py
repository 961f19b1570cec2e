import pytest
from django.contrib.auth.models import Group, User

from agreements.permissions import EDITORS_GROUP, PUBLISHERS_GROUP


@pytest.fixture
def editor(db):
    """A member of Editors: staff, not a superuser."""
    user = User.objects.create_user("edna", password="a-long-editor-password", is_staff=True)
    user.groups.add(Group.objects.get(name=EDITORS_GROUP))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def publisher(db):
    """A member of Publishers: may also publish and withdraw."""
    user = User.objects.create_user("pat", password="a-long-publisher-password", is_staff=True)
    user.groups.add(Group.objects.get(name=PUBLISHERS_GROUP))
    return user


@pytest.fixture
def publisher_client(client, publisher):
    client.force_login(publisher)
    return client


@pytest.fixture
def superuser_client(client, db):
    user = User.objects.create_superuser("root", "", "a-long-admin-password")
    client.force_login(user)
    return client


@pytest.fixture
def seeded(db):
    from django.conf import settings

    from agreements.seed import load_seed

    return load_seed(settings.BASE_DIR / "fixtures" / "seed")


@pytest.fixture(autouse=True)
def empty_page_cache():
    """Cached pages outlive a test's rolled-back data; every test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in English, whatever language an earlier test's request left active."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
