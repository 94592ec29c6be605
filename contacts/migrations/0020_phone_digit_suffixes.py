"""Phone searches by digit suffixes (contacts.search.DigitSuffixes): a fragment anywhere in a
number is the start of one of its suffixes, one prefix lookup in a GIN index instead of the
trigram index's digit posting lists, which grow with the table."""

import contacts.search
import django.contrib.postgres.indexes
from django.conf import settings
from django.db import migrations

# Every suffix of the value's digits three or more long, as tsvector lexemes (no parsing: the
# digits are the lexemes). Immutable, so it can be indexed.
SUFFIXES = r"""
CREATE OR REPLACE FUNCTION crm_digit_suffixes(value text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT substr(d.digits, i)
        FROM (SELECT regexp_replace(value, '[^0-9]', '', 'g') AS digits) d,
             generate_series(1, length(d.digits) - 2) AS i
    ))
$$
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_user_name_order'),
        ('contacts', '0019_stage_index_covers_tags_and_scope'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(SUFFIXES, "DROP FUNCTION IF EXISTS crm_digit_suffixes(text)"),
        migrations.AddIndex(
            model_name='company',
            index=django.contrib.postgres.indexes.GinIndex(contacts.search.DigitSuffixes('phone'), name='company_phone_digits'),
        ),
        migrations.AddIndex(
            model_name='contactphone',
            index=django.contrib.postgres.indexes.GinIndex(contacts.search.DigitSuffixes('digits'), name='contactphone_suffixes'),
        ),
    ]
