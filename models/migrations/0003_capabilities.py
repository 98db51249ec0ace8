from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_funnel_delivery_scenarios')]

    initial = False

    operations = [
        ops.CreateModel(
            name='UserCapability',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='capabilities', on_delete=OnDelete.CASCADE)),
                ('capability', fields.CharField(max_length=32)),
                ('granted', fields.BooleanField()),
                ('by_user', fields.ForeignKeyField('models.User', source_field='by_user_id', null=True, db_constraint=True, to_field='id', related_name='capability_changes', on_delete=OnDelete.SET_NULL)),
                ('at', fields.FloatField()),
            ],
            options={'table': 'user_capability', 'app': 'models', 'unique_together': (('user', 'capability'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
