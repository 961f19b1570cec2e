"""CSV imports in the admin: the upload is checked before any row runs (size, UTF-8, the header
row), small files keep django-import-export's preview and confirm, and a file with more rows than
IMPORT_INLINE_MAX_ROWS becomes an ImportJob for `manage.py run_import_jobs` instead of running
in the request (gunicorn kills a request after 30 s). Each job has a read-only page: its state,
counts, errors and the proposed revisions it made. docs/IMPORT.md.

Who sees what: staff who may import something (the add permission, as for the import itself)
see their own jobs; publishers and superusers see everyone's. Nobody changes a job by hand.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from import_export.formats.base_formats import CSV
from import_export.forms import ImportForm

from agreements import imports
from agreements.models import ImportJob, ImportKind, ImportState, can_publish


class CsvImportForm(ImportForm):
    """The library's upload form, which also reads the file: too large, not UTF-8, not CSV, or
    a wrong header row is a form error that lists the expected columns, never a traceback."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.resource_classes = resources
        self.csv = None

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("import_file")
        if upload is None or self.errors:
            return cleaned
        limit = imports.max_upload_bytes()
        if upload.size > limit:
            self.add_error(
                "import_file",
                f"The file is {filesizeformat(upload.size)}; files of up to "
                f"{filesizeformat(limit)} can be uploaded. Split it, or ask for it to be "
                "imported with `manage.py import_csv`.",
            )
            return cleaned
        data = b"".join(upload.chunks())
        upload.seek(0)  # the library reads it again
        try:
            resource_class = self.resource_classes[int(cleaned.get("resource") or 0)]
        except (ValueError, IndexError):
            resource_class = self.resource_classes[0]
        self.csv = imports.read_csv(data, resource_class)
        for problem in self.csv.errors:
            self.add_error("import_file", problem)
        return cleaned


class BackgroundImportMixin:
    """For the ImportExportModelAdmins: CSV only, checked on upload, large files queued."""

    import_formats = [CSV]
    import_form_class = CsvImportForm
    # The library's page, with errors shown as messages only (no traceback, no server paths).
    import_template_name = "admin/agreements/import.html"

    def get_import_context_data(self, **kwargs):
        return {
            **super().get_import_context_data(**kwargs),
            "inline_max_rows": imports.inline_max_rows(),
        }

    def create_import_form(self, request):
        # One form per request: import_action below and the library's share it, so the file is
        # read and checked once.
        form = getattr(request, "_import_form", None)
        if form is None:
            form = request._import_form = super().create_import_form(request)
        return form

    def import_action(self, request, **kwargs):
        if request.method == "POST" and self.has_import_permission(request):
            form = self.create_import_form(request)
            if form.is_valid() and len(form.csv.rows) > imports.inline_max_rows():
                return self._queue(request, form)
        return super().import_action(request, **kwargs)

    def _queue(self, request, form):
        kind = ImportKind.for_model(self.model)
        job = imports.queue(kind, form.cleaned_data["import_file"].name, form.csv, request.user)
        self.message_user(
            request,
            f"The file has {job.row_count:,} rows, more than the {imports.inline_max_rows():,} "
            f"imported while you wait, so it is queued as import #{job.pk} and runs in the "
            "background. Nothing is written unless every row can be; this page shows how it "
            "went.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(job.get_absolute_url())


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["__str__", "state", "row_count", "created_by", "created_at", "finished_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["created_by"]
    search_fields = ["file_name"]
    date_hierarchy = "created_at"
    fields = [
        "kind",
        "file_name",
        "row_count",
        "created_by",
        "state",
        "created_at",
        "started_at",
        "finished_at",
        "outcome",
        "error_list",
        "proposal_list",
    ]
    readonly_fields = fields
    change_form_template = "admin/agreements/importjob/change_form.html"
    view_on_site = False  # its own admin page is where it is seen

    def get_queryset(self, request):
        # The file itself can be megabytes: no page here shows it.
        return super().get_queryset(request).defer("content").visible_to(request.user)

    def has_view_permission(self, request, obj=None):
        if not imports.may_see_jobs(request.user):
            return False
        return obj is None or obj.created_by_id == request.user.pk or can_publish(request.user)

    def has_add_permission(self, request):
        return False  # jobs come from uploads on the Import pages

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "refresh": job is not None and not job.is_done}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="outcome")
    def outcome(self, job):
        if job.state == ImportState.QUEUED:
            ahead = ImportJob.objects.queued().filter(created_at__lt=job.created_at).count()
            return f"Waiting for the import worker ({ahead} queued before it)."
        if job.state == ImportState.RUNNING:
            return "Running: nothing is written until every row has been checked."
        return imports.summarize(job.counts, written=True, ok=job.state == ImportState.SUCCEEDED)

    @admin.display(description="errors")
    def error_list(self, job):
        if not job.errors:
            return "-"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((e,) for e in job.errors))
        )

    @admin.display(description="proposed revisions")
    def proposal_list(self, job):
        proposals = job.proposals.select_related(
            "agreement", "transfer__from_country", "transfer__to_country", "source"
        )
        if not proposals:
            return "-"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">#{}</a>: {} ({})</li>',
                (
                    (p.get_absolute_url(), p.pk, p.record, p.get_state_display().lower())
                    for p in proposals
                ),
            ),
        )
