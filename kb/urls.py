from django.urls import path

from kb import views

app_name = "kb"

urlpatterns = [
    path("", views.help_home, name="help-home"),
    path("search/", views.help_search, name="help-search"),
    path("faq/", views.help_faq, name="help-faq"),
    path("sitemap.xml", views.help_sitemap, name="help-sitemap"),
    path("c/<str:slug>/", views.help_category, name="help-category"),
    path("a/<str:slug>/", views.help_article, name="help-article"),
    path("a/<str:slug>/vote/", views.help_article_vote, name="help-article-vote"),
]
