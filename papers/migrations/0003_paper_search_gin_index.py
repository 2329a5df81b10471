from django.db import migrations

from papers import search

INDEX = "paper_search_vector_gin"


def index_papers(apps, schema_editor):
    # Full-text search is PostgreSQL's; SQLite searches search_text and needs no index for it.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON papers_paper USING gin (search_vector)")
    Paper = apps.get_model("papers", "Paper")
    papers = list(Paper.objects.all())
    for paper in papers:
        search.fill_search_fields(paper)
    Paper.objects.bulk_update(papers, ["search_text", "keyword_index"], batch_size=500)
    search.update_search_vectors(Paper.objects.all())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("papers", "0002_search_fields_and_note_html")]

    operations = [migrations.RunPython(index_papers, drop_index)]
