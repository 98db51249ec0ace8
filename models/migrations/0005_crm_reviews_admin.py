from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.crm import BroadcastStatus, Review
from models.leads import CrmStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_referral_visits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Application',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='applications', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=Review.PENDING, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected', enum_type=Review, max_length=16)),
                ('via', fields.CharField(default='bot', max_length=16)),
                ('text', fields.TextField(default='', unique=False)),
                ('created_at', fields.FloatField()),
                ('decided_at', fields.FloatField(null=True)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decided_applications', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'application', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BotPrompt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='prompt', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('at', fields.FloatField()),
            ],
            options={'table': 'bot_prompt', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Broadcast',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='broadcasts', on_delete=OnDelete.SET_NULL)),
                ('segment', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('text', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=BroadcastStatus.DRAFT, description='DRAFT: draft\nSENDING: sending\nDONE: done\nCANCELLED: cancelled', enum_type=BroadcastStatus, max_length=16)),
                ('total', fields.IntField(default=0)),
                ('progress_chat_id', fields.BigIntField(null=True)),
                ('progress_shown', fields.CharField(default='', max_length=64)),
                ('created_at', fields.FloatField()),
                ('confirmed_at', fields.FloatField(null=True)),
                ('finished_at', fields.FloatField(null=True)),
            ],
            options={'table': 'broadcast', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeadNote',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lead', fields.ForeignKeyField('models.LeadEntry', source_field='lead_id', db_constraint=True, to_field='id', related_name='notes', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='lead_notes', on_delete=OnDelete.SET_NULL)),
                ('text', fields.TextField(unique=False)),
                ('at', fields.FloatField()),
            ],
            options={'table': 'lead_note', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProfileChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='profile_changes', on_delete=OnDelete.CASCADE)),
                ('field', fields.CharField(max_length=16)),
                ('value', fields.CharField(max_length=256)),
                ('status', fields.CharEnumField(default=Review.PENDING, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected', enum_type=Review, max_length=16)),
                ('created_at', fields.FloatField()),
                ('decided_at', fields.FloatField(null=True)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decided_profiles', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'profile_change', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='LeadEntry',
            name='crm_status',
            field=fields.CharEnumField(default=CrmStatus.NEW, description='NEW: new\nIN_PROGRESS: in_progress\nAPPLIED: applied\nPARTNER: partner\nREJECTED: rejected', enum_type=CrmStatus, max_length=16),
        ),
        ops.AddField(
            model_name='User',
            name='display_name',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='User',
            name='photo_file_id',
            field=fields.CharField(null=True, max_length=256),
        ),
        ops.AddField(
            model_name='User',
            name='referred_by',
            field=fields.ForeignKeyField('models.User', source_field='referred_by_id', null=True, db_constraint=True, to_field='id', related_name='recruits', on_delete=OnDelete.SET_NULL),
        ),
    ]
