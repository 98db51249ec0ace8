from tortoise import migrations
from tortoise.migrations import operations as ops
from models.webinars import StreamType, WebinarKind, WebinarStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_visit_dedup')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Webinar',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=64)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('kind', fields.CharEnumField(default=WebinarKind.LIVE, description='LIVE: live\nAUTO: auto', enum_type=WebinarKind, max_length=8)),
                ('starts_at', fields.FloatField(db_index=True)),
                ('duration_min', fields.IntField()),
                ('tz', fields.CharField(max_length=64)),
                ('status', fields.CharEnumField(default=WebinarStatus.SCHEDULED, db_index=True, description='SCHEDULED: scheduled\nLIVE: live\nFINISHED: finished\nCANCELLED: cancelled', enum_type=WebinarStatus, max_length=16)),
                ('speaker', fields.ForeignKeyField('models.User', source_field='speaker_id', null=True, db_constraint=True, to_field='id', related_name='hosted_webinars', on_delete=OnDelete.SET_NULL)),
                ('stream_type', fields.CharEnumField(description='OBS: obs\nZOOM: zoom\nTELEGRAM: telegram', enum_type=StreamType, max_length=16)),
                ('stream_url', fields.CharField(max_length=1000)),
                ('recording_url', fields.CharField(null=True, max_length=1000)),
                ('chat_enabled', fields.BooleanField(default=True)),
                ('chat_open', fields.BooleanField(default=True)),
                ('attend_min_percent', fields.IntField(default=50)),
                ('attend_min_minutes', fields.IntField(default=20)),
                ('started_at', fields.FloatField(null=True)),
                ('ended_at', fields.FloatField(null=True)),
                ('status_changed_at', fields.FloatField(null=True)),
                ('status_changed_by', fields.ForeignKeyField('models.User', source_field='status_changed_by_id', null=True, db_constraint=True, to_field='id', related_name='webinar_status_changes', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.FloatField()),
                ('updated_at', fields.FloatField()),
            ],
            options={'table': 'webinar_event', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChatMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('webinar', fields.ForeignKeyField('models.Webinar', source_field='webinar_id', db_constraint=True, to_field='id', related_name='chat_messages', on_delete=OnDelete.CASCADE)),
                ('lead', fields.ForeignKeyField('models.LeadEntry', source_field='lead_id', null=True, db_constraint=True, to_field='id', related_name='chat_messages', on_delete=OnDelete.SET_NULL)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='chat_messages', on_delete=OnDelete.SET_NULL)),
                ('author_name', fields.CharField(max_length=200)),
                ('from_speaker', fields.BooleanField(default=False)),
                ('text', fields.CharField(max_length=1000)),
                ('at', fields.FloatField()),
                ('deleted_at', fields.FloatField(null=True)),
                ('deleted_by', fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name='deleted_chat_messages', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'webinar_chat_message', 'app': 'models', 'indexes': [Index(fields=['webinar_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChatMute',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('webinar', fields.ForeignKeyField('models.Webinar', source_field='webinar_id', db_constraint=True, to_field='id', related_name='chat_mutes', on_delete=OnDelete.CASCADE)),
                ('lead', fields.ForeignKeyField('models.LeadEntry', source_field='lead_id', db_constraint=True, to_field='id', related_name='chat_mutes', on_delete=OnDelete.CASCADE)),
                ('by_user', fields.ForeignKeyField('models.User', source_field='by_user_id', null=True, db_constraint=True, to_field='id', related_name='chat_mutes_made', on_delete=OnDelete.SET_NULL)),
                ('at', fields.FloatField()),
            ],
            options={'table': 'webinar_chat_mute', 'app': 'models', 'unique_together': (('webinar', 'lead'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebinarRegistration',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('webinar', fields.ForeignKeyField('models.Webinar', source_field='webinar_id', db_constraint=True, to_field='id', related_name='registrations', on_delete=OnDelete.CASCADE)),
                ('lead', fields.ForeignKeyField('models.LeadEntry', source_field='lead_id', db_constraint=True, to_field='id', related_name='webinar_registrations', on_delete=OnDelete.CASCADE)),
                ('source', fields.CharField(max_length=64)),
                ('registered_at', fields.FloatField()),
                ('entered_at', fields.FloatField(null=True)),
            ],
            options={'table': 'webinar_registration', 'app': 'models', 'unique_together': (('webinar', 'lead'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
