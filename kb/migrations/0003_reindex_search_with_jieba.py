"""Chinese search terms are jieba's words now, not bigrams (measured: tests/kb/
test_search_quality.py, bench/results/kb-segmentation-2026-11-30.md): re-derive every
article's search columns with the current `kb.text.search_terms`."""

from django.db import migrations


def reindex(apps, schema_editor):
    from kb.text import search_terms

    Article = apps.get_model("kb", "Article")
    rows = Article.objects.only("title", "summary", "tags", "body").order_by("pk")
    batch = []
    for article in rows.iterator(chunk_size=500):
        article.search_title = search_terms(article.title)
        article.search_text = search_terms(
            " ".join([article.summary, " ".join(article.tags), article.body])
        )
        batch.append(article)
        if len(batch) == 500:
            Article.objects.bulk_update(batch, ["search_title", "search_text"])
            batch = []
    if batch:
        Article.objects.bulk_update(batch, ["search_title", "search_text"])


class Migration(migrations.Migration):
    dependencies = [("kb", "0002_add_feedback_and_search_log")]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop, elidable=True)]
