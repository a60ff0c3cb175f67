import factory

from applications.models import Organization, Site
from applications.validators import build_uscc
from certbody.models import User


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试商贸有限公司{n:03d}")
    uscc = factory.Sequence(lambda n: build_uscc("110105", 10_000 + n))
    registered_address = factory.Sequence(lambda n: f"北京市朝阳区测试路 {n} 号")
    postcode = "100020"
    division_code = "110105"
    legal_representative = "张三"
    contact_name = "李四"
    contact_phone = "010-88886666"
    headcount = 60

    @factory.post_generation
    def scopes(self, create, extracted, **kwargs):
        from certbody.models import BusinessScope

        if create:
            self.business_scopes.set(BusinessScope.objects.filter(code__in=extracted or [24]))


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"服务网点{n}")
    address = factory.Sequence(lambda n: f"北京市海淀区网点路 {n} 号")
    headcount = 10


class ClientUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"client{n}")
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.PostGenerationMethodCall("set_password", "client-pw")

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()
