"""The pages' forms (Flask-WTF: each carries its CSRF token), with messages in the page's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, FloatField, HiddenField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from api.auth.accounts import ACCOUNT_ROLES, MIN_PASSWORD, USERNAME
from api.persistence.models import REPLY_LENGTH
from api.web.i18n import category_name, group_name, role_name
from geodata.crs import InputCRS
from zones.config import CHINA_LAT, CHINA_LON
from zones.intake import MAX_ACCURACY_M
from zones.layer import ZoneLayer

#: Digits, spaces, +, - and brackets: a mobile or landline number as people write it.
PHONE = r"[0-9+\-() ]{5,20}"
MAX_DESCRIPTION = 500


class LoginForm(FlaskForm):
    """Staff sign-in."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "current-password"})
    next = HiddenField()


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
    accuracy_m = FloatField(validators=[Optional(), NumberRange(0, MAX_ACCURACY_M)])
    crs = HiddenField(default=InputCRS.WGS84.value)
    category = SelectField(_l("What is the problem?"), validators=[InputRequired(_l("Choose what kind of problem it is."))], validate_choice=True)
    description = TextAreaField(_l("A few words (optional)"), validators=[Optional(), Length(max=MAX_DESCRIPTION)],
                                render_kw={"maxlength": MAX_DESCRIPTION, "rows": 3})
    phone = TelField(_l("Phone number (optional)"), validators=[Optional(), Regexp(PHONE, message=_l("Enter a phone number of digits only."))],
                     render_kw={"autocomplete": "tel", "inputmode": "tel"})
    client_ref = HiddenField()

    def __init__(self, layer: ZoneLayer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = category_choices(layer)
        self.category.choices = [SelectChoice(code, name, optgroup=group) for group, items in self.groups.items() for code, name in items]

    def validate_crs(self, field: HiddenField) -> None:
        """Only the coordinate systems the service converts."""
        if field.data not in InputCRS.values():
            raise ValidationError(_l("Unknown coordinate system."))

    def validate_client_ref(self, field: HiddenField) -> None:
        """The form's own key (a double tap sends the same report once)."""
        if field.data and len(field.data) > 64:
            raise ValidationError(_l("Reload the page and try again."))


#: Why a unit disputes a report: the reasons its form offers.
DISPUTE_REASONS = {
    "not_our_zone": _l("Not our zone"),
    "not_our_duty": _l("Not our duty"),
    "already_fixed": _l("Already fixed"),
}


class ActionForm(FlaskForm):
    """One action on a report from its page: which, against which version of the report (a
    change by someone else meanwhile is told, not overwritten), and what the action needs."""

    action = HiddenField(validators=[DataRequired()])
    row_version = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    unit_id = StringField(_l("Unit"), validators=[Optional(), Length(max=64)])
    duplicate_of = StringField(_l("The original report (number)"), validators=[Optional(), Regexp(r"\d{1,10}", message=_l("Give the original's number."))])
    reason = SelectField(_l("Why"), choices=[SelectChoice(key) for key in DISPUTE_REASONS], validate_choice=False)
    day = DateField(_l("Date"), validators=[Optional()])  # an extension's new deadline, a hold's review
    reply = StringField(validators=[Optional(), Regexp(r"\d{1,10}")])  # a kept reply (常用回复), put before the note: a select on the page


class BulkForm(FlaskForm):
    """One action on the ticked reports of the dispatchers' list (the rows come as repeated ``report_id``)."""

    action = SelectField(_l("Action"), choices=[SelectChoice(a) for a in ("confirm", "escalate", "reassign")], validators=[DataRequired()])
    unit_id = StringField(_l("Unit"), validators=[Optional(), Length(max=64)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 1})
    back = HiddenField()


class ReplyForm(FlaskForm):
    """A reply the district keeps for an action (常用回复)."""

    action = SelectField(_l("For"), validators=[DataRequired()])
    text = TextAreaField(_l("Reply"), validators=[DataRequired(), Length(max=REPLY_LENGTH)], render_kw={"rows": 2, "maxlength": REPLY_LENGTH})


class Checkboxes(SelectMultipleField):
    """A multiple choice drawn as checkboxes (a phone cannot work a multiple select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoundForm(FlaskForm):
    """A new inspection round: the view fills the choices (levels, point types, sub-districts, inspectors)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    level = SelectField(_l("Level"), validators=[DataRequired()])
    first_day = DateField(_l("From"), validators=[DataRequired()])
    last_day = DateField(_l("To"), validators=[DataRequired()])
    types = Checkboxes(_l("Point types (none: all)"), validate_choice=True)
    areas = Checkboxes(_l("Sub-districts (none: all)"), validate_choice=True)
    sample = IntegerField(_l("A random sample of (none: every point)"), validators=[Optional(), NumberRange(min=1, max=2000)])
    seed = IntegerField(_l("Sample seed (the same seed draws the same points)"), validators=[Optional(), NumberRange(min=0, max=2**31 - 1)])
    inspectors = Checkboxes(_l("Inspectors, the points shared among them in turn (none: any inspector)"), validate_choice=True)


class AssignForm(FlaskForm):
    """Give a round's points to an inspector: the ticked points, or every point of a type."""

    inspector = SelectField(_l("Inspector"))
    point = Checkboxes(_l("Points"), validate_choice=False)
    point_type = SelectField(_l("Or every point of the type"), validate_choice=True)


class TrendForm(FlaskForm):
    """Which weekly scoring to show (a GET form, without a CSRF token; the view fills the choices)."""

    by = SelectField(_l("Rows"), default="unit")
    every = SelectField(_l("Periods"), default="week")
    count = IntegerField(_l("How many"), validators=[Optional()], default=8)
    level = SelectField(_l("Level"), default="")


class ChecklistsForm(FlaskForm):
    """New inspection checklists: a CSV or Excel table, and why."""

    checklists = FileField(_l("Checklists table (CSV or Excel: point_type, code, text, kind, minimum, weight, category, owner, clause)"))
    note = StringField(_l("Note (why)"), validators=[Optional(), Length(max=2000)])


class ReopenForm(FlaskForm):
    """A reporter says a published fix did not hold (整改不满意)."""

    reason = TextAreaField(_l("What is still wrong"), validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 3})


class UserForm(FlaskForm):
    """An administrator creates a staff account."""

    username = StringField(_l("Username"), validators=[DataRequired(), Regexp(USERNAME.pattern, message=_l("2–64 letters, digits, '_', '.' or '-'."))])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    unit_id = StringField(_l("Unit code (unit accounts only)"), validators=[Optional(), Length(max=64)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)],
                             render_kw={"autocomplete": "new-password"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(r.value, role_name(r.value)) for r in ACCOUNT_ROLES]


class AccountSwitchForm(FlaskForm):
    """Disable or enable an account."""


class LayerUploadForm(FlaskForm):
    """A planner's new layer: one GeoPackage with every layer, or the layers one by one; a layer
    left out is kept from the current version."""

    layer = FileField(_l("GeoPackage with the layers (zones, test_points, areas, scope)"))
    zones = FileField(_l("Zones"))
    test_points = FileField(_l("Test points"))
    areas = FileField(_l("Sub-districts (areas)"))
    scope = FileField(_l("Coverage scope (built-up area)"))
    categories = FileField(_l("Categories table"))
    units = FileField(_l("Units table"))
    calendar = FileField(_l("Working calendar (calendar.csv: date, workday, name)"))


class NoteForm(FlaskForm):
    """Publishing or rolling back a layer version: why."""

    note = TextAreaField(_l("Note (why)"), validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 2})


class ChoiceForm(FlaskForm):
    """A list of checked rows (gaps to fill, reports to reassign) or a plain confirmation; the
    rows come as repeated fields the view reads."""
