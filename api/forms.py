"""The pages' forms (Flask-WTF: each carries its CSRF token), with messages in the page's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, HiddenField, PasswordField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from api.accounts import ACCOUNT_ROLES, MIN_PASSWORD, USERNAME
from api.i18n import category_name, group_name, role_name
from api.parsing import CHINA_LAT, CHINA_LON
from geodata.crs import InputCRS
from zones.layer import ZoneLayer

#: Digits, spaces, +, - and brackets: a mobile or landline number as people write it.
PHONE = r"[0-9+\-() ]{5,20}"
MAX_DESCRIPTION = 500


class LoginForm(FlaskForm):
    """Staff sign-in."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Sign out (a form, so that another site cannot sign anyone out with a link)."""


def category_choices(layer: ZoneLayer) -> dict[str, list[tuple[str, str]]]:
    """The layer's categories by campaign (十大整治 group), by their names in the page's language."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for category in layer.category_table.values():
        groups.setdefault(group_name(category) or str(_l("Other")), []).append((category.code, category_name(category)))
    return groups


class ReportForm(FlaskForm):
    """A citizen's report: where (lon/lat from the phone's location or a pin), what, a few words,
    an optional phone number. The photos come as up to three file fields named ``photos``."""

    lon = FloatField(_l("Longitude"), validators=[InputRequired(_l("Mark the spot on the map or use your location.")),
                                                  NumberRange(*CHINA_LON, _l("This point is not in China."))])
    lat = FloatField(_l("Latitude"), validators=[InputRequired(_l("Mark the spot on the map or use your location.")),
                                                 NumberRange(*CHINA_LAT, _l("This point is not in China."))])
    accuracy_m = FloatField(validators=[Optional(), NumberRange(0, 100_000)])
    crs = HiddenField(default=InputCRS.WGS84.value)
    category = SelectField(_l("What is the problem?"), validators=[InputRequired(_l("Choose what kind of problem it is."))], validate_choice=True)
    description = TextAreaField(_l("A few words (optional)"), validators=[Optional(), Length(max=MAX_DESCRIPTION)],
                                render_kw={"maxlength": MAX_DESCRIPTION, "rows": 3})
    phone = TelField(_l("Phone number (optional)"), validators=[Optional(), Regexp(PHONE, message=_l("Enter a phone number of digits only."))],
                     render_kw={"autocomplete": "tel", "inputmode": "tel"})
    client_ref = HiddenField()

    def __init__(self, layer: ZoneLayer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = category_choices(layer)  # type: ignore[assignment]

    def validate_crs(self, field: HiddenField) -> None:
        """Only the coordinate systems the service converts."""
        if field.data not in InputCRS.values():
            raise ValidationError(_l("Unknown coordinate system."))

    def validate_client_ref(self, field: HiddenField) -> None:
        """The form's own key (a double tap sends the same report once)."""
        if field.data and len(field.data) > 64:
            raise ValidationError(_l("Reload the page and try again."))


class ReassignForm(FlaskForm):
    """A dispatcher moves a report to another unit."""

    unit_id = StringField(_l("New unit code"), validators=[DataRequired(), Length(max=64)])
    note = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class UserForm(FlaskForm):
    """An administrator creates a staff account."""

    username = StringField(_l("Username"), validators=[DataRequired(), Regexp(USERNAME.pattern, message=_l("2–64 letters, digits, '_', '.' or '-'."))])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    unit_id = StringField(_l("Unit code (unit accounts only)"), validators=[Optional(), Length(max=64)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)],
                             render_kw={"autocomplete": "new-password"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [(r.value, role_name(r.value)) for r in ACCOUNT_ROLES]  # type: ignore[assignment]


class AccountSwitchForm(FlaskForm):
    """Disable or enable an account."""
