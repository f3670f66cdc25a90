const { currentUser, login } = require('../../utils/request')

const ROLE_NAMES = { resident: '居民', handler: '承办人', head: '部门负责人', supervisor: '督办人员', admin: '管理员' }

Page({
  data: { user: null, roleName: '', isStaff: false, isSupervisor: false },

  onShow() {
    const show = () => {
      const user = currentUser()
      const role = user ? user.role : 'resident'
      this.setData({
        user,
        roleName: ROLE_NAMES[role] || role,
        isStaff: role !== 'resident',
        isSupervisor: role === 'supervisor' || role === 'admin',
      })
    }
    if (currentUser()) show()
    else login().then(show, show)
  },

  go(e) {
    wx.navigateTo({ url: e.currentTarget.dataset.url })
  },
})
