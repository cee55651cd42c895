from django.contrib import admin

from participants.admin_import import ParticipantImportAdminMixin
from participants.models import Participant


@admin.register(Participant)
class ParticipantAdmin(ParticipantImportAdminMixin, admin.ModelAdmin):
    pass
