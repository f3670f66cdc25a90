// 我的: who I am here (role in the county's words) and the screens for my
// role. Which entries show is navigation only; the server checks every call.
const { currentUser, login } = require('../../utils/request')
const labels = require('../../utils/labels')

const STAFF = ['handler', 'head', 'supervisor', 'admin']
const SUPERVISORS = ['supervisor', 'admin']
const CONSOLE = ['head', 'supervisor', 'admin']

function entries(role) {
  const list = []
  const has = (roles) => roles.indexOf(role) >= 0
  if (has(STAFF)) list.push({ key: 'queue', title: '部门待办工单', url: '/pages/staff/queue/index' })
  if (has(SUPERVISORS)) {
    list.push({ key: 'overdue', title: '超期督办', url: '/pages/supervise/overdue/index' })
    list.push({ key: 'extensions', title: '延期审批', url: '/pages/supervise/extensions/index' })
    list.push({ key: 'ranking', title: '部门排名与导出', url: '/pages/supervise/ranking/index' })
  }
  if (has(CONSOLE)) list.push({ key: 'console', title: '扫码登录电脑端', url: '/pages/console-login/index' })
  list.push({ key: 'bind', title: has(STAFF) ? '重新绑定工作人员身份' : '我是工作人员（绑定）', url: '/pages/staff/bind/index' })
  return list
}

Component({
  data: { user: null, roleName: '', department: '', entries: [] },
  methods: {
    onShow() {
      const show = () => labels.ready().then(() => this.paint())
      return currentUser() ? show() : login().then(show, show)
    },
    paint() {
      const user = currentUser()
      const role = user ? user.role : 'resident'
      this.setData({ user, roleName: labels.role(role), department: user && user.department ? user.department.name : '', entries: entries(role) })
    },
    go(e) {
      wx.navigateTo({ url: e.currentTarget.dataset.url })
    },
  },
})
