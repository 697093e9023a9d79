from django.urls import path

from telederm.accounts.views import auth, links, organisation, profile, region, units

app_name = "accounts"

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("login/code/", auth.code_view, name="code"),
    path("login/code/resend/", auth.resend_code_view, name="resend_code"),
    path("logout/", auth.logout_view, name="logout"),
    path("activate/<str:token>/", links.activate_view, name="activate"),
    path("password-reset/", links.reset_request_view, name="reset_request"),
    path("password-reset/<str:token>/", links.reset_confirm_view, name="reset_confirm"),
    path("apply/", region.apply_view, name="apply"),
    path("apply/thanks/", region.apply_thanks_view, name="apply_thanks"),
    path("account/", profile.profile_view, name="profile"),
    path("account/authenticator/", profile.totp_enrol_view, name="totp_enrol"),
    path("account/authenticator/remove/", profile.totp_remove_view, name="totp_remove"),
    path("account/mobile/", profile.mobile_change_view, name="mobile_change"),
    path("account/mobile/confirm/", profile.mobile_confirm_view, name="mobile_confirm"),
    path("account/forget-device/", profile.forget_device_view, name="forget_device"),
    path("org/<uuid:org_id>/", organisation.organisation_view, name="organisation"),
    path("org/<uuid:org_id>/users/new/", organisation.user_new_view, name="user_new"),
    path("org/<uuid:org_id>/users/<uuid:user_id>/", organisation.user_edit_view, name="user_edit"),
    path(
        "org/<uuid:org_id>/users/<uuid:user_id>/licence/",
        organisation.licence_add_view,
        name="licence_add",
    ),
    path(
        "org/<uuid:org_id>/users/<uuid:user_id>/deactivate/",
        organisation.user_deactivate_view,
        name="user_deactivate",
    ),
    path(
        "org/<uuid:org_id>/users/<uuid:user_id>/resend/",
        organisation.user_resend_view,
        name="user_resend",
    ),
    path("org/<uuid:org_id>/edit/", units.unit_edit_view, name="unit_edit"),
    path("region/", region.region_view, name="region"),
    path("region/new/<str:kind>/", units.unit_new_view, name="unit_new"),
    path("region/applications/", region.applications_view, name="applications"),
    path(
        "region/applications/<uuid:application_id>/",
        region.application_view,
        name="application",
    ),
]
