// Opening an export (.xlsx) on the phone: download it with the login token,
// then let WeChat show it (and forward or save it from its menu).
const { download } = require('./request')

function openExport(path) {
  wx.showLoading({ title: '正在生成表格', mask: true })
  return download({ url: path, silent: true })
    .then(
      (filePath) =>
        new Promise((resolve) => {
          wx.hideLoading()
          wx.openDocument({
            filePath,
            fileType: 'xlsx',
            showMenu: true,
            success: () => resolve(true),
            fail: () => {
              wx.showToast({ title: '无法打开表格，请稍后重试', icon: 'none' })
              resolve(false)
            },
          })
        }),
    )
    .catch((error) => {
      wx.hideLoading()
      wx.showToast({ title: error.message, icon: 'none', duration: 2500 })
      return false
    })
}

module.exports = { openExport }
