"""The Chinese of every error detail, by the English text as the raise site writes it (see
app/core/messages_zh.py for the notation, and app/core/messages.py for how they are used)."""

from __future__ import annotations

from typing import Final

from app.core.messages_zh_programmes import PROGRAMME_DETAILS

_GENERAL: Final[dict[str, str]] = {
    # Signing in, tokens, API keys
    "Sign in first: send `Authorization: Bearer <token>`": (
        "请先登录：发送 `Authorization: Bearer <token>`"
    ),
    "Incorrect username or password": "用户名或密码错误",
    "Too many failed logins; try again later": "登录失败次数过多，请稍后再试",
    "Send the OAuth2 password form ({}: username, password) or a JSON object with username "
    "and password, not {}": (
        "请以 OAuth2 密码表单（{0}：username、password）或含 username 和 password 的 JSON "
        "对象发送，而不是 {1}"
    ),
    "The token is not valid": "令牌无效",
    "the token is not valid": "令牌无效",
    "the token has expired": "令牌已过期",
    "not an access token": "这不是访问令牌",
    "The session has been revoked": "该登录已被注销",
    "The refresh token is not valid": "刷新令牌无效",
    "The refresh token has expired": "刷新令牌已过期",
    "The refresh token was already used; the session is revoked": (
        "刷新令牌已被使用过；该登录已被注销"
    ),
    "No such API key": "未找到该 API 密钥",
    "The API key is not valid": "API 密钥无效",
    "The API key has been revoked": "该 API 密钥已被吊销",
    "The photo link is not valid or has expired": "照片链接无效或已过期",
    "This API key reads cases but may not file them": "此 API 密钥只能读取案件，不能提交案件",
    "the location lies outside the region of this integration's key": (
        "该位置不在此接入方密钥所属区域内"
    ),
    "Only administrators read a contact unmasked": "只有管理员可以查看未遮蔽的联系人信息",
    "No integration contact for this report": "该案件没有接入方提交的联系人信息",
    "Only the case's staff read whom it was filed for": "只有该案件的办理人员可以查看报事人信息",
    "Only a dashboard key's token is renewed here; people use /auth/refresh": (
        "此处只续期数据大屏密钥的令牌；个人账号请使用 /auth/refresh"
    ),
    "API keys are read-only": "API 密钥只能读取数据",
    "API keys are read-only and cannot do this": "API 密钥只能读取数据，不能执行此操作",
    "Your role does not allow this": "您的角色无权执行此操作",
    "Metrics are served to the addresses of SSP_METRICS_ALLOWED_IPS, or with the bearer token "
    "of SSP_METRICS_TOKEN.": (
        "监控指标只提供给 SSP_METRICS_ALLOWED_IPS 中的地址，或携带 SSP_METRICS_TOKEN 令牌的请求。"
    ),
    # Users, roles, personal data
    "No such user": "未找到该用户",
    "No such role assignment": "未找到该角色分配",
    "The username {} is taken": "用户名 {0} 已被占用",
    "The user already holds this role there": "该用户在此处已有这个角色",
    "Your role has no user directory": "您的角色无权查看用户名录",
    "the {} role has no scope": "{0} 角色没有管辖范围",
    "the {} role needs a {} as its scope": "{0} 角色须以一个 {1} 为管辖范围",
    "the current password is wrong": "当前密码不正确",
    "the password is wrong": "密码不正确",
    "The account was cancelled (账号注销) and its personal data erased; it cannot be changed "
    "or given roles. Create a new account instead.": (
        "该账号已注销，个人信息已删除；不能再修改或授予角色。请新建账号。"
    ),
    "This is the only active administrator: make another one before cancelling, deactivating "
    "or demoting it, or nobody could manage the service.": (
        "这是唯一在用的管理员：请先设置另一名管理员，再注销、停用或撤销此管理员，"
        "否则将无人能管理本服务。"
    ),
    # Organisation: regions, communities, grids, units, pairings, couriers
    "No such {}": "未找到：{0}",
    "No such region": "未找到该行政区域",
    "No such community": "未找到该社区",
    "No such grid": "未找到该网格",
    "No such unit": "未找到该单位",
    "No such pairing": "未找到该结对关系",
    "No such courier company": "未找到该快递公司",
    "No such courier branch": "未找到该快递网点",
    "No such company": "未找到该快递公司",
    "No such branch": "未找到该快递网点",
    "No such check-in": "未找到该报到申请",
    "no such {}": "没有该对象：{0}",
    "no such region": "没有该行政区域",
    "no such community": "没有该社区",
    "no such unit": "没有该单位",
    "no such branch": "没有该快递网点",
    "no such grid": "没有该网格",
    "no such {}: {}": "没有该对象（{0}）：{1}",
    "no such region: {}": "没有该行政区域：{0}",
    "no such community: {}": "没有该社区：{0}",
    "no such unit: {}": "没有该单位：{0}",
    "no such courier company: {}": "没有该快递公司：{0}",
    "no such courier branch: {}": "没有该快递网点：{0}",
    "No region is configured yet; an administrator must add one": (
        "尚未设置任何行政区域，需由管理员先添加"
    ),
    "a root region needs its level": "顶级区域必须注明级别",
    "a {}'s child is a {}, not a {}": "{0} 的下级应为 {1}，而不是 {2}",
    "{} is a township: communities go under it, not regions": (
        "{0} 是乡镇（街道）：其下只能设社区，不能再设区域"
    ),
    "{} is a {}: communities belong to a township (苏木镇/街道)": (
        "{0} 是 {1}：社区须隶属于乡镇（苏木镇/街道）"
    ),
    "There is already a region named {} there": "此处已有名为 {0} 的区域",
    "The region code {} is taken": "区域代码 {0} 已被占用",
    "The region's name or code is taken": "该区域的名称或代码已被占用",
    "{} still has {}; move or delete them first": "{0} 下仍有 {1}；请先迁移或删除",
    "The region already has a community named {}": "该区域已有名为 {0} 的社区",
    "The region already has a community of that name": "该区域已有同名社区",
    "Another request created one of these communities meanwhile": (
        "另一个请求在此期间创建了其中某个社区"
    ),
    "{} is still referenced": "{0} 仍被引用",
    "{} role assignment(s) are held in {}; remove them first": (
        "{1} 中仍有 {0} 个角色分配；请先移除"
    ),
    "invalid boundary: {}": "边界无效：{0}",
    "the FeatureCollection has no features": "FeatureCollection 中没有任何要素",
    "{} of {} features are invalid; nothing was imported": (
        "{1} 个要素中有 {0} 个无效；未导入任何内容"
    ),
    "The community already has a grid named {}": "该社区已有名为 {0} 的网格",
    "The community already has a grid of that name": "该社区已有同名网格",
    "the grid does not lie within the boundary of {}": "该网格不在 {0} 的边界内",
    "the grids {} would lie outside the new boundary; change or delete them first": (
        "网格 {0} 将位于新边界之外；请先修改或删除这些网格"
    ),
    "There is already a unit named {}": "已有名为 {0} 的单位",
    "There is already a unit of that name": "已有同名单位",
    "{} is in use": "{0} 仍在使用中",
    "{} is already paired with {}": "{0} 已与 {1} 结对",
    "{} belongs to a region outside yours; an administrator can pair it": (
        "{0} 属于您辖区以外的区域；可由管理员为其结对"
    ),
    "no category {}": "没有类别 {0}",
    "There is already a courier company named {}": "已有名为 {0} 的快递公司",
    "There is already a courier company of that name": "已有同名快递公司",
    "The company already has a branch named {}": "该公司已有名为 {0} 的网点",
    "The company already has a branch of that name": "该公司已有同名网点",
    "{} still has {} branch(es); delete them first": "{0} 仍有 {1} 个网点；请先删除",
    "{} courier(s) hold roles in {}; move or remove them first": (
        "{0} 名快递员在 {1} 有角色；请先调走或移除"
    ),
    "Only couriers check in with communities": "只有快递员可以向社区报到",
    "you deliver for several branches: say which one": "您为多个网点送件：请注明是哪一个",
    "you are not a courier of this branch": "您不是该网点的快递员",
    "Your check-in with {} is already {}": "您向 {0} 的报到申请已是 {1} 状态",
    "You cannot decide your own check-in": "不能审批自己的报到申请",
    "The check-in is already {}; only a pending one is decided": (
        "该报到申请已是 {0} 状态；只能审批待审核的申请"
    ),
    # Categories
    "No category {}": "没有类别 {0}",
    "The category code {} is taken": "类别代码 {0} 已被占用",
    "no such category": "没有该类别",
    "the parent is a leaf category; reports are filed there": (
        "所选上级是末级类别（上报直接归入此类），不能再添加下级"
    ),
    "this is a class of categories; choose one of its categories": (
        "这是一个大类；请选择其下的具体类别"
    ),
    # Working calendar
    "the year must be within {}–{}": "年份须在 {0}–{1} 之间",
    "must not be before `from`": "不能早于 `from`",
    "at most {} days at a time": "一次最多 {0} 天",
    "{} follows the published schedule or the weekday rule": (
        "{0} 没有管理员设置，沿用公布的安排或按星期的规则"
    ),
    "{} is not in {}": "{0} 不在 {1} 年内",
    "duplicate date {} (first at {})": "日期 {0} 重复（首次出现在第 {1} 项）",
    "{} bad day(s); nothing was changed: {}": "{0} 个日期有误，未作任何更改：{1:msg}",
    # Reports: filing, finding, listing
    "No such report": "未找到该上报",
    "no such report": "没有该上报",
    "Your role cannot submit reports": "您的角色不能提交上报",
    "you cannot file a {} report": "您不能提交 {0} 类上报",
    "must not be empty": "不能为空",
    "the point is outside China; check lat/lng": "该位置不在中国境内；请检查 lat/lng",
    "give a time zone (RFC 3339)": "请注明时区（RFC 3339）",
    "is in the future": "不能是将来的时间",
    "is more than {} days ago": "不能早于 {0} 天前",
    "is before from": "不能早于 from",
    "send 1 to {} photos, not {}": "请发送 1 至 {0} 张照片，而不是 {1} 张",
    "the grid {} is in {}, but the point is in no community's area; leave grid_id out": (
        "网格 {0} 属于 {1}，但该位置不在任何社区范围内；请不要填写 grid_id"
    ),
    "the grid {} is in {}, but the point is routed to {}; name a grid of {} or leave grid_id out": (
        "网格 {0} 属于 {1}，但该位置归属 {2}；请填写 {3} 的网格，或不填写 grid_id"
    ),
    "expected {} comma-separated numbers": "应为 {0} 个以逗号分隔的数字",
    "the minimum is greater than the maximum": "最小值大于最大值",
    "lat, lng in range and 0 < radius_m ≤ {}": "lat、lng 须在有效范围内，且 0 < radius_m ≤ {0}",
    "Only staff can write internal notes": "只有工作人员可以写内部备注",
    "Only the reporter and the case's staff can comment": (
        "只有上报人和承办此案件的工作人员可以评论"
    ),
    # Workflow: what may be done to a case or a job, by whom
    "cannot {} a report that is {}": "上报当前为 {1} 状态，不能执行 {0}",
    "cannot {} a job that is {}": "任务当前为 {1} 状态，不能执行 {0}",
    "only {} may {}": "只有 {0} 可以{1:msg}",
    "the report has no status to return to": "该上报没有可恢复到的状态",
    "The {} changed (it is now version {}); reload it and try again": (
        "{0} 已被修改（现为第 {1} 版）；请刷新后重试"
    ),
    "The report changed (it is now version {}); reload it and try again": (
        "该上报已被修改（现为第 {0} 版）；请刷新后重试"
    ),
    "The job changed (it is now version {}); reload it and try again": (
        "该任务已被修改（现为第 {0} 版）；请刷新后重试"
    ),
    "a report cannot duplicate itself": "上报不能标记为与自身重复",
    "the original must be a report of the same community": "原上报须属于同一社区",
    "the report is already there": "该上报已在此处",
    "a report goes to a community of its own county (旗县区), or of a region you supervise": (
        "上报只能转派到本旗县区的社区，或您督办区域内的社区"
    ),
    "the assignee must be staff or a grid worker of the community": (
        "指派对象须为本社区的工作人员或网格员"
    ),
    "send at least one photo of the result": "请至少发送一张处置结果的照片",
    "a case can be reopened within {} days of closing": "案件只能在结案后 {0} 天内重新打开",
    "only supervisors give yellow or red cards": "只有督办员可以发黄牌或红牌",
    "the report is already owned by the top region": "该上报已归最高一级区域办理",
    "the case has been rated already": "此案件已评价过",
    "no unit with id {}": "没有 id 为 {0} 的单位",
    "unit {} ({}) is {}": "单位 {0}（{1}）{2:msg}",
    "unit {} ({}) already has an open job on this case": "单位 {0}（{1}）在此案件上已有未结任务",
    "the case already has an open lead job; it must decline or be cancelled before another "
    "unit can lead": ("此案件已有未结的主办任务；须待其退单或被撤回后，才能由其他单位主办"),
    "must be in the future": "须为将来的时间",
    # Jobs
    "No such job": "未找到该任务",
    "Someone else acted on this job at the same moment; reload it and decide again": (
        "有人同时操作了此任务，请刷新后重新决定"
    ),
    "write what was done": "请填写处置情况",
    "send {} to {} photos, not {}": "请发送 {0} 至 {1} 张照片，而不是 {2} 张",
    "Your role does not take photos for cases": "您的角色不能为案件上传照片",
    "after photos show a hazard handled on the spot: say handled_on_the_spot": (
        "“处理后”照片用于当场处理的隐患：请同时注明 handled_on_the_spot"
    ),
    "send photos or photo_ids, not both": "请发送照片或 photo_ids，不要同时发送两者",
    "upload {} is listed twice": "上传的照片 {0} 重复列出",
    "upload {} does not exist or is already used": "上传的照片 {0} 不存在或已被使用",
    "upload {} is not one of yours": "上传的照片 {0} 不是您上传的",
    "upload {} has expired; send the photo again": "上传的照片 {0} 已过期，请重新上传",
    "You have {} photos waiting for a report; file or let them expire first": (
        "您已有 {0} 张照片等待提交：请先提交上报，或等待其过期"
    ),
    "Send multipart/form-data with the photos, or application/json with photo_ids, not {}": (
        "请以 multipart/form-data 发送照片，或以 application/json 发送 photo_ids，而不是 {0}"
    ),
    "Wait for the decision on the request already made": "请等待已提交申请的审批结果",
    "must be in the future and after the current completion time": (
        "须为将来的时间，且晚于当前的办结时限"
    ),
    "must be in the future and after the current completion time ({})": (
        "须为将来的时间，且晚于当前的办结时限（{0}）"
    ),
    "The unit has not asked for more time, or it was decided": ("该单位没有申请延期，或申请已审批"),
    # Photos
    "No such photo": "未找到该照片",
    "The photo's file is missing from storage": "存储中找不到该照片的文件",
    "photo {} ({}) is larger than {} MB": "照片 {0}（{1}）超过 {2} MB",
    "photo {} ({}): {}: {}": "照片 {0}（{1}）：{2}：{3:msg}",
    "the photo is {} bytes; at most {} are accepted": "照片为 {0} 字节；最多接受 {1} 字节",
    "the file is not an image": "该文件不是图片",
    "{} images are not accepted": "不接受 {0} 图片",
    "{} images are not accepted; send JPEG, PNG, WebP or HEIC/HEIF": (
        "不接受 {0} 图片；请发送 JPEG、PNG、WebP 或 HEIC/HEIF"
    ),
    "animated images are not accepted": "不接受动图",
    "the image has too many pixels (at most {})": "图片像素过多（最多 {0}）",
    "the image is {}×{} = {} pixels; at most {}": "图片为 {0}×{1} = {2} 像素；最多 {3}",
    "the {} file cannot be read: {}": "无法读取该 {0} 文件：{1}",
    "the image data is damaged or incomplete: {}": "图像数据已损坏或不完整：{0}",
    "arithmetic-coded, lossless and hierarchical JPEG are not accepted": (
        "不接受算术编码、无损或分层 JPEG"
    ),
    "the JPEG headers are inconsistent": "JPEG 文件头互相矛盾",
    "the JPEG file has no image data": "JPEG 文件中没有图像数据",
    "the JPEG file has an invalid marker 0x{}": "JPEG 文件含有无效标记 0x{0}",
    "the JPEG file is cut short": "JPEG 文件不完整",
    "the JPEG file has two frame headers": "JPEG 文件有两个帧头",
    "the JPEG scans are malformed": "JPEG 扫描数据格式错误",
    "the JPEG image data is cut short": "JPEG 图像数据不完整",
    "the JPEG image data is damaged (restarts out of order)": (
        "JPEG 图像数据已损坏（重启标记顺序错乱）"
    ),
    "the JPEG image data is incomplete (restart markers missing)": (
        "JPEG 图像数据不完整（缺少重启标记）"
    ),
    "the HEIF file ends inside a box header": "HEIF 文件不完整（在数据块头部处中断）",
    "the HEIF file is cut short": "HEIF 文件不完整",
    # Events and webhooks
    "must be the id of an event this stream sent": "须为此事件流发出过的事件 id",
    "No such webhook": "未找到该 Webhook",
    "No such delivery for this webhook": "此 Webhook 没有该推送记录",
    "The delivery is {}": "该推送当前为 {0} 状态",
    "no unit has this id": "没有单位使用此 id",
    "you act for several units: say which one the webhook is for": (
        "您代表多个单位：请注明此 Webhook 属于哪个单位"
    ),
    "You can only register webhooks for a unit you act for": "只能为您所代表的单位注册 Webhook",
    "is not a valid URL": "不是有效的网址",
    "must be an http or https URL": "须为 http 或 https 网址",
    "must use https": "须使用 https",
    "must not contain a user name or password": "不能包含用户名或密码",
    "must name a host": "须包含主机名",
    "is not a public internet address": "不是公网地址",
    "must name a host that resolves to public internet addresses only; this one does not "
    "resolve, or resolves to an address that is not public": (
        "主机名须只解析到公网地址；此主机名无法解析，或解析到了非公网地址"
    ),
    # Every request: text, retries, lists, sizes, the server
    "control characters are not allowed (U+{} at position {})": (
        "不允许包含控制字符（位置 {1} 处有 U+{0}）"
    ),
    "must be 1 to {} printable characters": "须为 1 至 {0} 个可打印字符",
    "This Idempotency-Key was already used with a different request; use a new key": (
        "此 Idempotency-Key 已用于另一个不同的请求；请使用新的键"
    ),
    "A request with this Idempotency-Key is still in progress; retry shortly": (
        "使用此 Idempotency-Key 的请求仍在处理中，请稍后重试"
    ),
    "the cursor was not made by this list with these filters (or has expired); start again "
    "from the first page": (
        "此游标不是由本列表在这些筛选条件下生成的（或已过期）；请从第一页重新开始"
    ),
    "The request is larger than {} MB in all": "请求总大小超过 {0} MB",
    "No such resource: {} {}": "没有此资源：{0} {1}",
    "{} is not allowed on {}; it answers {}": "{1} 不支持 {0} 请求；支持的方法为 {2}",
    "Someone else acted on this at the same moment; reload it and decide again.": (
        "有人同时操作了此项，请刷新后重新决定。"
    ),
    "Another request changed the same data at the same moment and nothing of this one was "
    "saved; send it again.": (
        "另一个请求同时修改了相同的数据，本次请求未保存任何内容，请重新提交。"
    ),
    "A concurrent request changed the same data; try again.": (
        "另一个请求同时修改了相同的数据，请重试。"
    ),
    "The service cannot reach its database just now; try again in a few seconds.": (
        "服务暂时无法连接数据库，请几秒后重试。"
    ),
    "Something went wrong on our side; quote the request id when reporting it.": (
        "服务器出了问题；反馈时请提供请求编号（request_id）。"
    ),
    # The framework's own, for a body it cannot read
    "There was an error parsing the body": "无法解析请求内容",
    "Field exceeded maximum size of {}KB.": "字段超过最大长度 {0}KB。",
    "Part exceeded maximum size of {}KB.": "表单的某一部分超过最大长度 {0}KB。",
    "Too many fields. Maximum number of fields is {}.": "字段过多，最多 {0} 个。",
    "Too many files. Maximum number of files is {}.": "文件过多，最多 {0} 个。",
    'The Content-Disposition header field "name" must be provided.': (
        'Content-Disposition 头必须提供 "name" 字段。'
    ),
    "Missing boundary in multipart.": "multipart 内容缺少 boundary。",
    "Invalid multipart data.": "multipart 数据无效。",
    # Statistics
    "`from` must be before `to`": "`from` 必须早于 `to`",
    "a period is at most three years": "统计时段最长三年",
    "minLng < maxLng within ±180 and minLat < maxLat within ±90": (
        "须 minLng < maxLng（±180 以内）且 minLat < maxLat（±90 以内）"
    ),
    "a cell is {} to {} metres": "网格边长须在 {0} 至 {1} 米之间",
    "the box holds {} cells of {} m; at most {}: a smaller box or larger cells": (
        "该范围按 {1} 米划分有 {0} 个网格，最多 {2} 个：请缩小范围或加大网格"
    ),
}

DETAILS: Final[dict[str, str]] = {**_GENERAL, **PROGRAMME_DETAILS}
