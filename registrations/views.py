from django.shortcuts import get_object_or_404, render

from registrations.models import Registration


def registration_detail(request, reference):
    registration = get_object_or_404(
        Registration.objects.select_related("tournament", "slot__location"), reference=reference
    )
    return render(request, "registrations/registration_detail.html", {"registration": registration})
