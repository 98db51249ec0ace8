from tortoise import migrations
from tortoise.migrations import operations as ops
from models.webinars import Attendance
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_webinars')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebinarAttendance',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('webinar', fields.ForeignKeyField('models.Webinar', source_field='webinar_id', db_constraint=True, to_field='id', related_name='attendance', on_delete=OnDelete.CASCADE)),
                ('lead', fields.ForeignKeyField('models.LeadEntry', source_field='lead_id', db_constraint=True, to_field='id', related_name='webinar_attendance', on_delete=OnDelete.CASCADE)),
                ('attendance', fields.CharEnumField(description='ATTENDED: attended\nNOT_ATTENDED: not_attended', enum_type=Attendance, max_length=16)),
                ('seconds_present', fields.FloatField()),
                ('completed', fields.BooleanField(default=False)),
                ('classified_at', fields.FloatField()),
                ('normalised_at', fields.FloatField(null=True)),
            ],
            options={'table': 'webinar_attendance', 'app': 'models', 'unique_together': (('webinar', 'lead'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Webinar',
            name='offer_open',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='WebinarRegistration',
            name='form_submitted_at',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='WebinarRegistration',
            name='in_room_since',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='WebinarRegistration',
            name='last_seen_at',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='WebinarRegistration',
            name='platform_opened_at',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='WebinarRegistration',
            name='seconds_present',
            field=fields.FloatField(default=0),
        ),
    ]
