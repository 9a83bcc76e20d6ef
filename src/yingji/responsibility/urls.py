from django.urls import path

from yingji.responsibility import views, views_leaders

app_name = "responsibility"
urlpatterns = [
    path("", views.home, name="home"),
    path("sanfang/", views.register, name="register"),
    path("sanfang/objects/<int:object_id>/", views.object_detail, name="object"),
    path("sanfang/objects/<int:object_id>/<str:role>/", views.person_save, name="person_save"),
    path("sanfang/people/<int:person_id>/remove/", views.person_remove, name="person_remove"),
    path("sanfang/import/", views.import_page, name="import"),
    path("sanfang/progress/", views.progress, name="progress"),
    path("sanfang/rounds/", views.round_open, name="round_open"),
    path("sanfang/rounds/<int:round_id>/confirm/", views.round_confirm, name="round_confirm"),
    path("public/sanfang/", views.public, name="public"),
    path("public/sanfang/<str:code>.<str:fmt>", views.public_file, name="public_file"),
    path("leaders/", views_leaders.leader_summary, name="leaders"),
    path("leaders/<int:leader_id>/", views_leaders.leader_detail, name="leader"),
    path("leaders/<int:leader_id>/patrols/", views_leaders.patrol_add, name="patrol_add"),
    path("leaders/lists/<int:list_id>/items/", views_leaders.item_add, name="item_add"),
    path("leaders/items/<int:item_id>/done/", views_leaders.item_done, name="item_done"),
    path("letters/", views_leaders.letter_list, name="letters"),
    path("letters/draft/", views_leaders.letters_draft, name="letters_draft"),
    path("letters/<int:letter_id>/", views_leaders.letter_move, name="letter_move"),
]

from yingji.responsibility import views_assessment as va  # noqa: E402

urlpatterns += [
    path("assessment/", va.home, name="assessment"),
    path("assessment/<int:year>/", va.year_page, name="assessment_year"),
    path("assessment/<int:year>/indicators/", va.indicators, name="assessment_indicators"),
    path("assessment/<int:year>/compute/", va.compute, name="assessment_compute"),
    path("assessment/<int:year>/propose/", va.propose, name="assessment_propose"),
    path("assessment/<int:year>/result.<str:fmt>", va.export, name="assessment_export"),
    path("assessment/sheets/<int:sheet_id>/", va.sheet, name="assessment_sheet"),
    path("assessment/sheets/<int:sheet_id>/evidence/", va.evidence, name="assessment_evidence"),
    path("assessment/sheets/<int:sheet_id>/<str:step>/", va.sheet_step, name="assessment_step"),
    path("assessment/interviews/<int:iv_id>/", va.interview, name="assessment_interview"),
    path("reviews/", va.reviews, name="reviews"),
    path("reviews/<int:session_id>/", va.review, name="review"),
    path("reviews/<int:session_id>/<str:step>/", va.review_step, name="review_step"),
    path("reviews/score/<int:reviewer_id>/", va.review_score, name="review_score"),
]
