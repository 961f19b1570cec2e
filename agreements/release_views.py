"""/data/: the dated releases (agreements/releases.py) with their downloads, the live downloads
and the API, and the data dictionary, rendered from the same schemas as the files."""

from django.http import FileResponse, Http404, HttpResponseNotModified
from django.shortcuts import redirect, render

from agreements.api import DATASETS
from agreements.models import DataRelease
from agreements.releases import TABLES
from tracker.query import reads_query

# A release never changes (its version names one file for good): clients and CDNs may keep it.
IMMUTABLE = "public, max-age=31536000, immutable"


@reads_query()
def data_page(request):
    releases = list(DataRelease.objects.newest_first().select_related("previous"))
    return render(
        request,
        "agreements/data.html",
        {
            "releases": releases,
            "latest": releases[0] if releases else None,
            "tables": [
                {"table": table, "dataset": DATASETS.get(table.dataset)} for table in TABLES
            ],
            "datasets": DATASETS.values(),
        },
    )


@reads_query()
def release_download(request, version):
    """/data/releases/<version>.zip. The version is looked up, never used as a path: the file
    is the one the release recorded, or a 404."""
    release = DataRelease.objects.filter(version=version).first()
    if release is None:
        raise Http404("No such release")
    etag = f'"{release.sha256}"'
    if etag in {
        tag.strip().removeprefix("W/")
        for tag in request.headers.get("If-None-Match", "").split(",")
    }:
        response = HttpResponseNotModified()
    else:
        try:
            file = open(release.path, "rb")  # noqa: SIM115 (FileResponse closes it)
        except FileNotFoundError:
            raise Http404("This release's file is missing") from None
        response = FileResponse(
            file, as_attachment=True, filename=release.file_name, content_type="application/zip"
        )
    response["ETag"] = etag
    response["Cache-Control"] = IMMUTABLE
    return response


@reads_query()
def latest_release(request):
    """/data/releases/latest.zip: a redirect to the newest release, whose own address stays."""
    release = DataRelease.objects.newest_first().only("version").first()
    if release is None:
        raise Http404("No release yet")
    response = redirect(release)
    # The newest release changes with the next one: ask again every time.
    response["Cache-Control"] = "no-cache"
    return response
