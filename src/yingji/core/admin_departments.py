"""Admin for near-duplicate departments: "合并(一键)" and "不是同一部门"."""

from django.contrib import admin, messages

from yingji.core import departments
from yingji.core.models import MergeSuggestion


@admin.register(MergeSuggestion)
class MergeSuggestionAdmin(admin.ModelAdmin):
    list_display = ["department", "candidate", "reason", "status", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["department__name", "candidate__name", "reason"]
    list_select_related = ["department", "candidate", "decided_by"]
    readonly_fields = ["department", "candidate", "reason", "status", "decided_by", "decided_at"]
    actions = ["merge_selected", "dismiss_selected"]

    # Suggestions are raised by imports and decided by the actions, never typed in.
    def has_add_permission(self, request):
        return False

    @admin.action(description="合并(一键)", permissions=["change"])
    def merge_selected(self, request, queryset):
        def merge(suggestion):
            return departments.merge(suggestion, request.user).summary()

        self._decide(request, queryset, merge)

    @admin.action(description="不是同一部门", permissions=["change"])
    def dismiss_selected(self, request, queryset):
        def dismiss(suggestion):
            departments.dismiss(suggestion, request.user)
            return f"已标记「{suggestion.department}」与「{suggestion.candidate}」不是同一部门"

        self._decide(request, queryset, dismiss)

    def _decide(self, request, queryset, decide):
        # One by one, open ones only: an earlier merge in the batch may already have
        # closed or re-pointed a later suggestion.
        for pk in queryset.values_list("pk", flat=True):
            suggestion = MergeSuggestion.objects.filter(pk=pk).first()
            if suggestion is None or suggestion.status != MergeSuggestion.Status.OPEN:
                continue
            try:
                self.message_user(request, decide(suggestion), messages.SUCCESS)
            except departments.MergeError as exc:
                self.message_user(request, f"{suggestion}:{exc}", messages.ERROR)
