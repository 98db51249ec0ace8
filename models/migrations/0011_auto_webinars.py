from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0010_reminders')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AutoSeries',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=64)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('tz', fields.CharField(max_length=64)),
                ('schedule', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('blackout', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('recording_url', fields.CharField(max_length=1000)),
                ('recording_duration_min', fields.IntField()),
                ('chat_enabled', fields.BooleanField(default=True)),
                ('paused', fields.BooleanField(default=False)),
                ('created_at', fields.FloatField()),
                ('updated_at', fields.FloatField()),
            ],
            options={'table': 'webinar_auto_series', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An AUTO webinar: a recording and the rule that plans its sessions.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Webinar',
            name='series',
            field=fields.ForeignKeyField('models.AutoSeries', source_field='series_id', null=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddConstraint(
            model_name='Webinar',
            constraint=UniqueConstraint(fields=('series', 'starts_at'), name=None),
        ),
    ]
