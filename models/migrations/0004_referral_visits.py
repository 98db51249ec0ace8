from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_capabilities')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RefVisit',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(db_index=True, max_length=64)),
                ('partner_id', fields.BigIntField(null=True, db_index=True)),
                ('utm', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('referrer', fields.CharField(null=True, max_length=500)),
                ('at', fields.FloatField()),
            ],
            options={'table': 'ref_visit', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
