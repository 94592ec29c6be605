from django.urls import path

from crm.exports import export_view
from kb import staff, views
from kb.lists import ARTICLES

app_name = "kb"

urlpatterns = [
    # The public help centre (no sign-in).
    path("", views.help_home, name="help-home"),
    path("search/", views.help_search, name="help-search"),
    path("faq/", views.help_faq, name="help-faq"),
    path("sitemap.xml", views.help_sitemap, name="help-sitemap"),
    path("c/<str:slug>/", views.help_category, name="help-category"),
    path("a/<str:slug>/", views.help_article, name="help-article"),
    path("a/<str:slug>/feedback/", views.help_article_feedback, name="help-article-feedback"),
    path("a/<str:slug>/vote/", views.help_article_vote, name="help-article-vote"),
    path("img/<str:name>", staff.help_image, name="help-image"),
    # Staff pages (signed in).
    path("staff/", staff.article_list, name="article-list"),
    path("staff/export/", export_view(ARTICLES), name="article-export"),
    path("staff/new/", staff.article_create, name="article-create"),
    path("staff/preview/", staff.article_preview, name="article-preview"),
    path("staff/images/", staff.image_upload, name="image-upload"),
    path("staff/panel-search/", staff.panel_search, name="panel-search"),
    path("staff/categories/", staff.category_list, name="category-list"),
    path("staff/categories/<int:pk>/", staff.category_edit, name="category-edit"),
    path("staff/analytics/", staff.analytics_page, name="analytics"),
    path("staff/<int:pk>/", staff.article_detail, name="article-detail"),
    path("staff/<int:pk>/edit/", staff.article_edit, name="article-edit"),
    path("staff/<int:pk>/submit/", staff.article_submit, name="article-submit"),
    path("staff/<int:pk>/publish/", staff.article_publish, name="article-publish"),
    path("staff/<int:pk>/archive/", staff.article_archive, name="article-archive"),
    path("staff/<int:pk>/move/", staff.article_move, name="article-move"),
    path("staff/<int:pk>/compare/", staff.article_compare, name="article-compare"),
    path(
        "staff/<int:pk>/versions/<int:number>/restore/",
        staff.article_restore,
        name="article-restore",
    ),
]
