"""Forms of the staff pages: an article's content, a category, an image upload."""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from crm.tags import TagNamesField, tag_names
from kb.models import Article, Category, Language, Visibility
from kb.services import ArticleInput

MAX_BODY = 200_000
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_PIXELS = 6000 * 6000
# Pillow format name -> the file extension and content type the image is served with.
IMAGE_FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}


def _categories() -> Any:
    return Category.objects.select_related("parent").order_by("position", "name")


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.CharField(
        label=_("Slug"),
        max_length=190,
        required=False,
        help_text=_("The article's address; left empty, it is made from the title."),
    )
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False)
    body = forms.CharField(
        label=_("Body (Markdown)"),
        max_length=MAX_BODY,
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "class": "font-monospace"}),
    )
    tags = forms.CharField(
        label=_("Keywords"),
        max_length=500,
        required=False,
        help_text=_("Words that help search find this article, separated by commas."),
    )
    tag_names = TagNamesField(label=_("Tags"), max_length=500, required=False)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Pick a category from the list.")},
    )
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    is_faq = forms.BooleanField(label=_("Show in the FAQ"), required=False)

    def __init__(self, *args: Any, article: Article | None = None, **kwargs: Any) -> None:
        if article is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": article.title,
                "slug": article.slug,
                "summary": article.summary,
                "body": article.body,
                "tags": ", ".join(article.tags),
                "category": article.category_id,
                "visibility": article.visibility,
                "language": article.language,
                "is_faq": article.is_faq,
                "tag_names": tag_names(article.tag_ids),
            }
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = _categories()

    def clean_tags(self) -> list[str]:
        tags = [t.strip() for t in self.cleaned_data["tags"].replace("\uff0c", ",").split(",")]
        tags = [t for t in tags if t]
        if any(len(t) > 50 for t in tags):
            raise forms.ValidationError(_("A tag may have at most 50 characters."))
        if len(tags) > 20:
            raise forms.ValidationError(_("At most 20 tags."))
        return tags

    def to_input(self) -> ArticleInput:
        data = self.cleaned_data
        return ArticleInput(
            title=data["title"],
            body=data["body"],
            summary=data["summary"],
            slug=data["slug"],
            tags=data["tags"],
            category=data["category"],
            visibility=data["visibility"],
            language=data["language"],
            is_faq=data["is_faq"],
            tag_names=tuple(data["tag_names"]),
        )


class PreviewForm(forms.Form):
    body = forms.CharField(max_length=MAX_BODY, required=False, strip=False)


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    name_zh = forms.CharField(label=_("Name in Chinese"), max_length=120, required=False)
    slug = forms.CharField(label=_("Slug"), max_length=120, required=False)
    parent = forms.ModelChoiceField(
        label=_("Parent category"),
        queryset=Category.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Pick a category from the list.")},
    )
    position = forms.IntegerField(
        label=_("Position"),
        min_value=0,
        max_value=10_000,
        initial=0,
        help_text=_("Categories are listed by position, lowest first."),
    )

    def __init__(self, *args: Any, editing: Category | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["parent"]
        assert isinstance(field, forms.ModelChoiceField)
        # A category is not offered as its own parent (sections below it are refused by
        # `category_update`, which walks the chain).
        field.queryset = _categories().exclude(pk=editing.pk) if editing else _categories()


class ImageForm(forms.Form):
    """An image for an article: at most 2 MB, a PNG, JPEG, GIF or WebP that Pillow reads
    whole (its header and its data), whatever its name or declared content type says."""

    image = forms.FileField(label=_("Image"))

    def clean_image(self) -> tuple[bytes, str]:
        upload = self.cleaned_data["image"]
        if upload.size > MAX_IMAGE_BYTES:
            raise forms.ValidationError(_("An image may be at most 2 MB."))
        data = upload.read()
        try:
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format or ""
                width, height = probe.size
                probe.verify()
            if kind in IMAGE_FORMATS and width * height <= MAX_IMAGE_PIXELS:
                with Image.open(io.BytesIO(data)) as image:
                    image.load()  # verify() checks the structure; load() decodes the pixels
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ):
            raise forms.ValidationError(_("This file is not an image we can read.")) from None
        if kind not in IMAGE_FORMATS:
            raise forms.ValidationError(_("Upload a PNG, JPEG, GIF or WebP image."))
        if width * height > MAX_IMAGE_PIXELS:
            raise forms.ValidationError(_("This image has too many pixels."))
        return data, IMAGE_FORMATS[kind][0]
