from ninja import Router

router = Router(tags=["regions and map"])
